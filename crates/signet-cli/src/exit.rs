//! Exit codes and the CLI's error type.

/// Process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success; the signature is valid.
    Ok = 0,
    /// The signature is invalid or indeterminate.
    Invalid = 1,
    /// Bad input or usage.
    BadInput = 2,
    /// Something failed that is not the user's input.
    Internal = 3,
}

/// An error with its exit code and a one-line message.
#[derive(Debug)]
pub struct CliError {
    pub code: Exit,
    pub message: String,
}

impl CliError {
    /// Bad input or usage (exit 2).
    pub fn input(msg: impl std::fmt::Display) -> Self {
        CliError {
            code: Exit::BadInput,
            message: one_line(&msg.to_string()),
        }
    }
    /// Internal failure (exit 3).
    pub fn internal(msg: impl std::fmt::Display) -> Self {
        CliError {
            code: Exit::Internal,
            message: one_line(&msg.to_string()),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Input errors from the libraries.
impl From<signet_crypto::CryptoError> for CliError {
    fn from(e: signet_crypto::CryptoError) -> Self {
        CliError::input(e)
    }
}
impl From<signet_pki::PkiError> for CliError {
    fn from(e: signet_pki::PkiError) -> Self {
        CliError::input(e)
    }
}
impl From<signet_cms::CmsError> for CliError {
    fn from(e: signet_cms::CmsError) -> Self {
        match e {
            signet_cms::CmsError::Io(io) => CliError::input(format!("reading the input: {io}")),
            other => CliError::input(other),
        }
    }
}

/// Result alias.
pub type CliResult<T> = Result<T, CliError>;
