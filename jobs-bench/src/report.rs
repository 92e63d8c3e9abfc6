//! What a workload measured, printed as a table row or as one JSON object.

use serde_json::{Map, Value, json};

/// A figure's goal.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    AtLeast(f64),
    AtMost(f64),
    /// Within this many percent of the goal, either way.
    Within(f64, f64),
}

impl Target {
    fn met(self, value: f64) -> bool {
        match self {
            Target::AtLeast(goal) => value >= goal,
            Target::AtMost(goal) => value <= goal,
            Target::Within(goal, percent) => (value - goal).abs() <= goal * percent / 100.0,
        }
    }
}

/// One measured number.
#[derive(Clone, Debug)]
pub(crate) struct Figure {
    pub(crate) name: String,
    pub(crate) value: f64,
    pub(crate) unit: &'static str,
    pub(crate) target: Option<Target>,
}

/// What one workload measured.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) workload: &'static str,
    pub(crate) backend: &'static str,
    /// How it ran: job counts, concurrency, batch sizes.
    pub(crate) setup: Map<String, Value>,
    pub(crate) figures: Vec<Figure>,
    /// Anything else worth keeping in the JSON (per-statement costs).
    pub(crate) details: Map<String, Value>,
}

impl Report {
    pub(crate) fn new(workload: &'static str, backend: &'static str) -> Self {
        Self {
            workload,
            backend,
            setup: Map::new(),
            figures: Vec::new(),
            details: Map::new(),
        }
    }

    pub(crate) fn setup(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.setup.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn figure(
        &mut self,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
        target: Option<Target>,
    ) {
        self.figures.push(Figure {
            name: name.into(),
            value,
            unit,
            target,
        });
    }

    /// Whether every figure with a target meets it.
    pub(crate) fn met(&self) -> bool {
        self.figures
            .iter()
            .all(|figure| figure.target.is_none_or(|target| target.met(figure.value)))
    }

    pub(crate) fn to_json(&self) -> Value {
        let figures: Vec<Value> = self
            .figures
            .iter()
            .map(|figure| {
                let mut object = json!({
                    "name": figure.name,
                    "value": round(figure.value),
                    "unit": figure.unit,
                });
                if let Some(target) = figure.target {
                    object["target"] = json!(match target {
                        Target::AtLeast(goal) => format!(">= {goal}"),
                        Target::AtMost(goal) => format!("<= {goal}"),
                        Target::Within(goal, percent) => format!("{goal} ± {percent}%"),
                    });
                    object["met"] = json!(target.met(figure.value));
                }
                object
            })
            .collect();
        let mut object = json!({
            "workload": self.workload,
            "backend": self.backend,
            "setup": self.setup,
            "figures": figures,
            "met": self.met(),
        });
        if !self.details.is_empty() {
            object["details"] = Value::Object(self.details.clone());
        }
        object
    }
}

fn round(value: f64) -> f64 {
    if value.abs() >= 100.0 {
        value.round()
    } else {
        (value * 1000.0).round() / 1000.0
    }
}

/// Formats a number for the table: thousands separated, three significant
/// decimals below 100.
pub(crate) fn human(value: f64) -> String {
    if !value.is_finite() {
        return "-".to_owned();
    }
    if value.abs() < 100.0 {
        return format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned();
    }
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// The table of every report, one line per figure.
pub(crate) fn table(reports: &[Report]) -> String {
    let mut rows = vec![[
        "backend".to_owned(),
        "workload".to_owned(),
        "figure".to_owned(),
        "value".to_owned(),
        "target".to_owned(),
        "met".to_owned(),
    ]];
    for report in reports {
        for figure in &report.figures {
            let (target, met) = match figure.target {
                Some(target) => {
                    let text = match target {
                        Target::AtLeast(goal) => format!(">= {}", human(goal)),
                        Target::AtMost(goal) => format!("<= {}", human(goal)),
                        Target::Within(goal, percent) => format!("{} ± {percent}%", human(goal)),
                    };
                    let met = if target.met(figure.value) {
                        "yes"
                    } else {
                        "NO"
                    };
                    (text, met.to_owned())
                }
                None => (String::new(), String::new()),
            };
            rows.push([
                report.backend.to_owned(),
                report.workload.to_owned(),
                format!("{} ({})", figure.name, figure.unit),
                human(figure.value),
                target,
                met,
            ]);
        }
    }
    let widths: Vec<usize> = (0..6)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| {
                if column == 3 {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(human(1_234_567.4), "1,234,567");
        assert_eq!(human(123.0), "123");
        assert_eq!(human(0.5), "0.5");
        assert_eq!(human(2.0), "2");
        assert_eq!(human(-1500.0), "-1,500");
        assert_eq!(human(f64::NAN), "-");
    }

    #[test]
    fn targets_decide_met() {
        let mut report = Report::new("w", "memory");
        report.figure("jobs/s", 10.0, "jobs/s", Some(Target::AtLeast(5.0)));
        assert!(report.met());
        report.figure("p99", 10.0, "ms", Some(Target::AtMost(5.0)));
        assert!(!report.met());
        assert_eq!(report.to_json()["met"], json!(false));
        assert!(table(&[report]).contains("NO"));
    }
}
