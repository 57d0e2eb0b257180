//! Serving: the listening socket, the accept loop (header-read timeout, connection limits in
//! all and per source, graceful drain) and the jobs that run beside it (audit sealing, the
//! anonymous failure counts, archive renewal).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::state::AppState;
use crate::{http, ltv_renewal, sealing};

/// Connections waiting to be accepted at most (the listen backlog; the kernel caps it at
/// `net.core.somaxconn`). The standard library's 128 turns a burst of a few hundred clients
/// into dropped handshakes and connection resets.
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr` with a backlog of [`LISTEN_BACKLOG`].
pub async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("{addr} names no address"))))
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets requests in progress
/// finish (at most 30 s).
///
/// Each connection must send its request headers within `header_read_timeout_secs` (a client
/// dripping them is cut off); at most `max_connections` are open at once (more wait in the
/// listen backlog). Alongside: the audit sealer, the flush of anonymous failure counts every
/// minute, and the archive renewal job.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (tally_stop, tally_rx) = tokio::sync::watch::channel(false);
    let sealer = tokio::spawn(sealing::sealing_task(state.clone(), rx));
    let tally = tokio::spawn(flush_anonymous(state.clone(), tally_rx));
    let (jobs_stop, jobs_rx) = tokio::sync::watch::channel(false);
    let notifier = tokio::spawn(crate::notifications::worker::schedule(state.clone(), jobs_rx.clone()));
    let workflow_jobs = tokio::spawn(crate::workflows::schedule(state.clone(), jobs_rx));
    let renewal = (state.config.ltv_renewal_every_secs > 0).then(|| {
        tokio::spawn(ltv_renewal::schedule(
            state.clone(),
            state.config.ltv_renewal_every_secs,
            state.config.ltv_renewal_window_days,
        ))
    });
    let app = http::router(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(state.config.max_connections));
    let header_timeout = std::time::Duration::from_secs(state.config.header_read_timeout_secs);
    let per_source = PerSource::new(state.config.max_connections_per_source, state.trusted_proxies.clone());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = connections.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // One source holds at most so many connections (slow clients, floods from one host).
        let Some(source_slot) = per_source.take(peer.ip()) else {
            drop(stream);
            continue;
        };
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(router.clone(), req.map(axum::body::Body::new))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slots = (slot, source_slot);
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            tracing::warn!("requests still in progress after 30 s were cut off");
        }
    }
    let _ = jobs_stop.send(true);
    let _ = notifier.await;
    let _ = workflow_jobs.await;
    // The counts first, then the final seal covers them.
    let _ = tally_stop.send(true);
    let _ = tally.await;
    let _ = tx.send(true);
    let _ = sealer.await;
    if let Some(r) = renewal {
        r.abort();
    }
    Ok(())
}

/// Writes the anonymous failure counts to the audit log every minute and at shutdown.
async fn flush_anonymous(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => break,
        }
        if let Err(e) = state.anonymous.flush(&state.audit).await {
            tracing::warn!("could not write anonymous failure counts: {}", e.detail);
        }
    }
    if let Err(e) = state.anonymous.flush(&state.audit).await {
        tracing::warn!("could not write anonymous failure counts: {}", e.detail);
    }
}

/// Connections per source, bounded (trusted proxies, which carry everyone's, are not).
struct PerSource {
    limit: usize,
    trusted: Vec<http::client::Cidr>,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One source's connection, given back when dropped.
struct SourceSlot {
    key: Option<String>,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        if let (Some(k), Ok(mut m)) = (self.key.take(), self.open.lock())
            && let Some(n) = m.get_mut(&k)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&k);
            }
        }
    }
}

impl PerSource {
    fn new(limit: usize, trusted: Vec<http::client::Cidr>) -> Self {
        PerSource {
            limit,
            trusted,
            open: Default::default(),
        }
    }

    /// A place for a connection from `ip`, or `None` when its source holds the limit.
    fn take(&self, ip: std::net::IpAddr) -> Option<SourceSlot> {
        if self.trusted.iter().any(|c| c.contains(ip)) {
            return Some(SourceSlot {
                key: None,
                open: self.open.clone(),
            });
        }
        let key = crate::throttle::source_key(&ip.to_string());
        let mut m = self.open.lock().ok()?;
        let n = m.entry(key.clone()).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(SourceSlot {
            key: Some(key),
            open: self.open.clone(),
        })
    }
}
