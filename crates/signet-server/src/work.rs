//! Heavy work (password hashing, PDF parsing and signing, validation, PKCS#12 decryption) runs
//! off the async workers, on the blocking pool, a bounded number at a time: a flood of
//! requests queues for a turn instead of starting thousands of argon2 runs at once, and the
//! async workers stay free for health checks and cheap requests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// How long a request waits for a turn before it is answered 503.
const WAIT: Duration = Duration::from_secs(30);

/// Turns for heavy work.
pub struct Work {
    turns: Arc<Semaphore>,
}

impl Default for Work {
    /// Two turns per core (at least four).
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Work::new((2 * cores).max(4))
    }
}

impl Work {
    /// At most `turns` jobs at once.
    pub fn new(turns: usize) -> Self {
        Work {
            turns: Arc::new(Semaphore::new(turns)),
        }
    }

    /// Runs `f` on the blocking pool once a turn is free (503 after waiting 30 s).
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let turn = tokio::time::timeout(WAIT, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::unavailable("the server is busy; try again in a minute").with_retry_after(30))?
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            f()
        })
        .await
        .map_err(ApiError::internal)
    }
}
