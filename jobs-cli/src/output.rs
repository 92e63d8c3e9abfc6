//! What a command prints: text for people, JSON for scripts, and the exit
//! code.

use std::process::ExitCode;

use serde::Serialize;

use crate::error::CliError;

/// A command's result.
#[derive(Debug)]
pub(crate) struct Output {
    /// Tables and sentences, ending with a newline.
    pub(crate) human: String,
    /// The same as JSON.
    pub(crate) json: serde_json::Value,
    /// The exit code (success unless a command says otherwise).
    pub(crate) exit: ExitCode,
    /// What failed among several things asked (`jobs retry 42 43`): one
    /// line each on standard error, and the exit code 1.
    pub(crate) failures: Vec<String>,
}

impl Output {
    pub(crate) fn new(human: String, json: &impl Serialize) -> Result<Self, CliError> {
        let json = serde_json::to_value(json)
            .map_err(|error| CliError::new(format!("could not encode the output: {error}")))?;
        Ok(Self {
            human,
            json,
            exit: ExitCode::SUCCESS,
            failures: Vec::new(),
        })
    }

    pub(crate) fn exit(mut self, code: ExitCode) -> Self {
        self.exit = code;
        self
    }

    pub(crate) fn failures(mut self, failures: Vec<String>) -> Self {
        if !failures.is_empty() {
            self.exit = ExitCode::FAILURE;
        }
        self.failures = failures;
        self
    }
}
