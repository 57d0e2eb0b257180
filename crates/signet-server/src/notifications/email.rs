//! E-mail over SMTP (lettre, rustls on aws-lc-rs): a plain text message with the document's
//! link, to whoever an event concerns.

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

use crate::config::Config;

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// No SMTP server is configured.
    #[error("no SMTP server is configured (smtp_host)")]
    NotConfigured,
    /// An address or the message is wrong.
    #[error("{0}")]
    Message(String),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Sends one message. Blocking: call from the blocking pool.
pub fn send(config: &Config, to: &str, subject: &str, body: &str) -> Result<(), EmailError> {
    let host = config.smtp_host.as_deref().ok_or(EmailError::NotConfigured)?;
    let from: Mailbox = config
        .smtp_from
        .parse()
        .map_err(|e| EmailError::Message(format!("smtp_from {:?}: {e}", config.smtp_from)))?;
    let to: Mailbox = to.parse().map_err(|e| EmailError::Message(format!("{to:?}: {e}")))?;
    let msg = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .body(body.to_string())
        .map_err(|e| EmailError::Message(e.to_string()))?;
    let builder = match config.smtp_tls.as_str() {
        "none" => SmtpTransport::builder_dangerous(host),
        "tls" => SmtpTransport::relay(host).map_err(|e| EmailError::Smtp(e.to_string()))?,
        _ => SmtpTransport::starttls_relay(host).map_err(|e| EmailError::Smtp(e.to_string()))?,
    };
    let mut builder = builder
        .port(config.smtp_port)
        .timeout(Some(std::time::Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (&config.smtp_username, &config.smtp_password) {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.clone(),
            password.to_string(),
        ));
    }
    builder
        .build()
        .send(&msg)
        .map(|_| ())
        .map_err(|e| EmailError::Smtp(e.to_string()))
}

/// Subject and text of the message an event sends.
pub fn compose(kind: &str, payload: &serde_json::Value, public_url: &str) -> (String, String) {
    let doc = &payload["document"];
    let title = doc["title"].as_str().unwrap_or("a document");
    let number = doc["number"].as_str().unwrap_or("");
    let step = payload["step"]["name"].as_str().unwrap_or("");
    let comment = payload["step"]["comment"].as_str().unwrap_or("");
    let link = format!(
        "{}/documents/{}",
        public_url.trim_end_matches('/'),
        doc["id"].as_str().unwrap_or("")
    );
    let what = match kind {
        "step.waiting" => format!("\"{title}\" {number} waits for you: {step}."),
        "step.overdue" => format!("Reminder: \"{title}\" {number} still waits for you ({step}), past its deadline."),
        "workflow.approved" => format!("\"{title}\" {number} is approved."),
        "workflow.rejected" => format!("\"{title}\" {number} was rejected at {step}: {comment}"),
        "workflow.returned" => format!("\"{title}\" {number} was returned for changes at {step}: {comment}"),
        other => format!("\"{title}\" {number}: {other}"),
    };
    (
        format!("[Signet] {}", what.chars().take(120).collect::<String>()),
        format!("{what}\n\n{link}\n\n-- \nSignet\n"),
    )
}
