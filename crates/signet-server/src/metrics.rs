//! Prometheus text-format counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (seconds) of the request-duration histogram.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Counters exported at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    requests: [AtomicU64; 5],
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_micros: AtomicU64,
    /// Signatures made.
    pub signatures: AtomicU64,
    /// One-time codes refused.
    pub totp_failures: AtomicU64,
    /// Failed logins.
    pub login_failures: AtomicU64,
    /// Requests refused because too many were in progress.
    pub shed: AtomicU64,
}

impl Metrics {
    /// Records a finished request.
    pub fn request(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.duration_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP signet_http_requests_total HTTP requests by status class.\n# TYPE signet_http_requests_total counter\n");
        for (i, c) in self.requests.iter().enumerate() {
            s.push_str(&format!(
                "signet_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                c.load(Ordering::Relaxed)
            ));
        }
        s.push_str("# HELP signet_http_request_duration_seconds Request duration.\n# TYPE signet_http_request_duration_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            s.push_str(&format!(
                "signet_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}\n",
                self.duration_buckets[i].load(Ordering::Relaxed)
            ));
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        s.push_str(&format!(
            "signet_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n"
        ));
        s.push_str(&format!(
            "signet_http_request_duration_seconds_sum {}\n",
            self.duration_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        s.push_str(&format!("signet_http_request_duration_seconds_count {count}\n"));
        for (name, help, v) in [
            ("signet_signatures_total", "Signatures made.", &self.signatures),
            (
                "signet_totp_failures_total",
                "One-time codes refused.",
                &self.totp_failures,
            ),
            ("signet_login_failures_total", "Failed logins.", &self.login_failures),
            (
                "signet_requests_shed_total",
                "Requests refused with 503 because too many were in progress.",
                &self.shed,
            ),
        ] {
            s.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        s
    }
}
