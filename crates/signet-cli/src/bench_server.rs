//! `signet bench server`: signatures per second and latency through the HTTP API (a service
//! account signing small PDFs with the organisation key, 16 concurrent clients, the audit log
//! durable), next to the in-process PAdES rate for the same PDF and key measured in the same run.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use signet_server::keys::{self, KeyKind};
use signet_server::users::{NewUser, Role};

use crate::bench::rate;
use crate::exit::{CliError, CliResult, Exit};

fn small_pdf() -> Vec<u8> {
    use signet_pdf::build::{classic_pdf, stream};
    classic_pdf(
        "1.7",
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
            stream("", b"BT /F1 18 Tf 72 760 Td (Purchase request 2026/114: 12 monitors) Tj ET"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        ],
        b"",
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the benchmark. By default the API signs a 0.6 KiB one-page PDF with an ECDSA P-256
/// organisation key (the server's default); `large`: the workload of `signet bench pades` (its
/// ~250 KiB 40-page PDF, RSA-2048) goes through the API instead.
pub fn run(
    clients: usize,
    requests: usize,
    database_url: Option<String>,
    seconds: u64,
    large: bool,
) -> CliResult<Exit> {
    let dir = std::env::temp_dir().join(format!("signet-bench-server-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::internal)?;
    let config = signet_server::Config {
        data_dir: dir.clone(),
        database_url: database_url.clone(),
        ..Default::default()
    };
    let (pdf, alg) = if large {
        (crate::bench::sample_pdf(), signet_crypto::KeyAlgorithm::Rsa2048)
    } else {
        (small_pdf(), signet_crypto::KeyAlgorithm::EcdsaP256)
    };
    // The `signet bench pades` reference, measured in this run: its PDF, RSA-2048, one thread.
    let pades_rate = {
        let sample = crate::bench::sample_pdf();
        let (signer, _) = crate::bench::signer_for(signet_crypto::KeyAlgorithm::Rsa2048)?;
        let opts = signet_pdf::PadesOptions::new(signet_pki::time::now());
        rate(seconds, || {
            signet_pdf::sign_pdf(&sample, &signer, &opts)
                .map(|_| ())
                .map_err(CliError::internal)
        })?
    };
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite (synchronous=FULL)"
    };
    let result = rt.block_on(async {
        let p = signet_server::prepare(config).await.map_err(CliError::internal)?;
        let state = p.state;
        let e = |e: signet_server::ApiError| CliError::internal(e.detail);
        let svc = signet_server::users::create(
            &state.db,
            &NewUser {
                username: "bench-service",
                display_name: "Bench service",
                email: None,
                roles: &[Role::Service],
                password: None,
            },
        )
        .await
        .map_err(e)?;
        let token = signet_server::tokens::create(
            &state,
            signet_server::tokens::Checked::new(&svc, "bench", None, None).map_err(e)?,
        )
        .await
        .map_err(e)?
        .token;
        let subject = signet_pki::name::SubjectSpec {
            common_name: "Bench organisation key".into(),
            ..Default::default()
        };
        let org = keys::create_certified(&state, KeyKind::Organisation, None, "bench", subject, "signer", alg)
            .await
            .map_err(e)?;
        keys::set_policy(
            &state.db,
            &org.id,
            &keys::Policy {
                roles: &["signer".into()],
                doc_types: &["*".into()],
                services: std::slice::from_ref(&svc.id),
                signature_level: "B-T",
            },
        )
        .await
        .map_err(e)?;
        let mut ids = Vec::with_capacity(requests);
        for i in 0..requests {
            let meta = signet_server::documents::Metadata {
                title: Some(format!("Request {i}")),
                ..Default::default()
            };
            ids.push(
                signet_server::documents::upload(&state, &svc, meta, "application/pdf", &pdf)
                    .await
                    .map_err(e)?
                    .id,
            );
        }
        // In-process reference: the same PDF and the same key, one thread.
        let signer = keys::signer(&state, &org.id).await.map_err(e)?;
        let pdf_ref = pdf.clone();
        let in_process = tokio::task::spawn_blocking(move || {
            rate(seconds, || {
                signet_pdf::sign_pdf(
                    &pdf_ref,
                    &*signer,
                    &signet_pdf::PadesOptions::new(signet_pki::time::now()),
                )
                .map(|_| ())
                .map_err(CliError::internal)
            })
        })
        .await
        .map_err(CliError::internal)??;
        let listener = signet_server::listen("127.0.0.1:0").await.map_err(CliError::internal)?;
        let authority = listener.local_addr().map_err(CliError::internal)?.to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(signet_server::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        let key_id = org.id.clone();
        let (api_rate, lat, failures) = tokio::task::spawn_blocking(move || {
            let next = AtomicUsize::new(0);
            let latencies = Mutex::new(Vec::with_capacity(ids.len()));
            let failures = AtomicUsize::new(0);
            let body = json!({"key_id": key_id}).to_string();
            let auth = format!("Bearer {token}");
            let client =
                signet_net::HttpClient::new(&signet_net::ClientOptions::default()).map_err(CliError::internal)?;
            let client = &client;
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..clients {
                    s.spawn(|| {
                        // The client keeps connections alive, as load tools (wrk, oha) do.
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(id) = ids.get(i) else { break };
                            let t0 = Instant::now();
                            let url = format!("http://{authority}/api/v1/documents/{id}/sign");
                            let r = client.send(signet_net::Request {
                                method: "POST",
                                url: &url,
                                headers: &[("Authorization", &auth), ("Content-Type", "application/json")],
                                body: body.as_bytes().to_vec(),
                                max_bytes: 1 << 20,
                                timeout: Some(Duration::from_secs(60)),
                            });
                            let ms = t0.elapsed().as_secs_f64() * 1000.0;
                            if !matches!(r, Ok(ref r) if r.status == 200) {
                                failures.fetch_add(1, Ordering::Relaxed);
                            }
                            if let Ok(mut l) = latencies.lock() {
                                l.push(ms);
                            }
                        }
                    });
                }
            });
            let secs = start.elapsed().as_secs_f64();
            let mut lat = latencies.into_inner().unwrap_or_default();
            lat.sort_by(|a, b| a.total_cmp(b));
            Ok::<_, CliError>((lat.len() as f64 / secs, lat, failures.into_inner()))
        })
        .await
        .map_err(CliError::internal)??;
        let _ = tx.send(());
        let _ = server.await;
        Ok::<_, CliError>((in_process, api_rate, lat, failures))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let (in_process, api_rate, lat, failures) = result?;
    println!(
        "server signing through the API ({backend}, {clients} clients, {requests} signatures of a {} B PDF, {} organisation key, audit log durable):",
        pdf.len(),
        alg.name()
    );
    println!(
        "  API:         {api_rate:8.1} signatures/s   p50 {:.1} ms   p99 {:.1} ms   failures {failures}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    println!(
        "  in-process, same PDF and key type, one thread:       {in_process:8.1} signatures/s   API/this = {:.2}",
        api_rate / in_process
    );
    println!(
        "  in-process `signet bench pades` (250 KiB, RSA-2048): {pades_rate:8.1} signatures/s   API/this = {:.2}",
        api_rate / pades_rate
    );
    if failures > 0 {
        return Err(CliError::internal(format!("{failures} requests failed")));
    }
    Ok(Exit::Ok)
}
