//! Plain-text tables: a header, then one line per row, columns padded to
//! their widest cell.

/// A table being built.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|cell| (*cell).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, ending with a newline.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|cell| width(cell)).collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                match widths.get_mut(column) {
                    Some(widest) => *widest = (*widest).max(width(cell)),
                    None => widths.push(width(cell)),
                }
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.header).chain(&self.rows) {
            let mut text = String::new();
            for (column, cell) in line.iter().enumerate() {
                if column > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                let pad = widths
                    .get(column)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(width(cell));
                text.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

/// What a stored string shows in a one-line cell: control characters
/// (a newline in a kind or an error message) as spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        let mut table = Table::new(&["ID", "KIND"]);
        table.row(vec!["7".into(), "send_mail".into()]);
        table.row(vec!["1234".into(), "x".into()]);
        assert_eq!(table.render(), "ID    KIND\n7     send_mail\n1234  x\n");
    }

    #[test]
    fn control_characters_do_not_break_lines() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }
}
