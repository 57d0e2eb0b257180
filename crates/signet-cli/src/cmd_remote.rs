//! `signet --server URL sign …`: the server holds the key; the CLI uploads the files, asks for
//! the signatures (one TOTP code for all of them) and downloads the results. The API token comes
//! from `SIGNET_TOKEN` (or `--token-file`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::cmd_sign::{self, Args, Job};
use crate::exit::{CliError, CliResult, Exit};
use crate::inputs;

const TIMEOUT: Duration = Duration::from_secs(120);
const MAX_REPLY: u64 = 1 << 30;

/// Where and as whom.
pub struct Server {
    base: String,
    token: String,
}

impl Server {
    /// The server at `url` with the token from `SIGNET_TOKEN`.
    pub fn from_env(url: &str) -> CliResult<Server> {
        let token = std::env::var("SIGNET_TOKEN").map_err(|_| {
            CliError::input("set SIGNET_TOKEN to an API token of your account (POST /api/v1/me/tokens)")
        })?;
        Ok(Server {
            base: url.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
        })
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> CliResult<signet_net::RawResponse> {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("Authorization", auth.as_str()), ("Accept", "application/json")];
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        let url = format!("{}{path}", self.base);
        let r = crate::net::user_client()?
            .send(signet_net::Request {
                method,
                url: &url,
                headers: &headers,
                body: body.to_vec(),
                max_bytes: MAX_REPLY,
                timeout: Some(TIMEOUT),
            })
            .map_err(|e| CliError::input(format!("server {}: {e}", self.base)))?;
        if r.status >= 400 {
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let detail = v["detail"].as_str().unwrap_or("").to_string();
            let msg = format!("server: {} {}: {detail}", r.status, v["title"].as_str().unwrap_or(""));
            return Err(if r.status >= 500 {
                CliError::internal(msg)
            } else {
                CliError::input(msg)
            });
        }
        Ok(r)
    }

    fn json(&self, method: &str, path: &str, body: Option<Value>) -> CliResult<Value> {
        let data = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let r = self.call(method, path, Some("application/json"), &data)?;
        serde_json::from_slice(&r.body).map_err(|e| CliError::internal(format!("server answer is not JSON: {e}")))
    }
}

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn read_code(a: &Args) -> CliResult<Option<String>> {
    if let Some(c) = &a.totp {
        return Ok(Some(c.clone()));
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("one-time code from your authenticator app (empty for service accounts): ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(CliError::internal)?;
    let line = line.trim().to_string();
    Ok(if line.is_empty() { None } else { Some(line) })
}

/// Signs `a.files` on the server.
pub fn sign(a: &Args, url: &str) -> CliResult<Exit> {
    if a.key.is_some() || a.p12.is_some() || a.tsa.is_some() || a.attached || a.detached {
        return Err(CliError::input(
            "with --server the server signs: use --key-id (not --key/--p12), and the server chooses PAdES or CAdES by file type",
        ));
    }
    if a.files.len() > 1 && a.out.is_some() {
        return Err(CliError::input("-o names one output; with several files use --out-dir"));
    }
    let key_id = a
        .key_id
        .clone()
        .ok_or_else(|| CliError::input("say which server key signs: --key-id ID (GET /api/v1/keys lists them)"))?;
    let server = Server::from_env(url)?;
    if let Some(dir) = &a.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut ids = Vec::new();
    for file in &a.files {
        let data = inputs::read(file, "document")?;
        let is_pdf = signet_validate::FileKind::detect(&data) == signet_validate::FileKind::Pdf;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let title = a.title.clone().unwrap_or_else(|| name.clone());
        let path = format!(
            "/api/v1/documents?title={}&filename={}&type={}",
            query_escape(&title),
            query_escape(&name),
            query_escape(a.doc_type.as_deref().unwrap_or(""))
        );
        let ct = if is_pdf {
            "application/pdf"
        } else {
            "application/octet-stream"
        };
        let r = server.call("POST", &path, Some(ct), &data)?;
        let v: Value = serde_json::from_slice(&r.body).map_err(CliError::internal)?;
        let id = v["document"]["id"]
            .as_str()
            .ok_or_else(|| CliError::internal("no document id in the answer"))?;
        ids.push((file.clone(), id.to_string(), is_pdf));
    }
    let code = read_code(a)?;
    let mut opts = json!({"key_id": key_id});
    if let Some(c) = code {
        opts["totp_code"] = json!(c);
    }
    if let Some(r) = &a.reason {
        opts["reason"] = json!(r);
    }
    if let Some(l) = &a.location {
        opts["location"] = json!(l);
    }
    if let Some(c) = a.certify {
        opts["certify"] = json!(c);
    }
    let signed: Vec<Value> = if ids.len() == 1 {
        vec![server.json("POST", &format!("/api/v1/documents/{}/sign", ids[0].1), Some(opts))?]
    } else {
        opts["document_ids"] = json!(ids.iter().map(|(_, id, _)| id.clone()).collect::<Vec<_>>());
        server.json("POST", "/api/v1/signatures/batch", Some(opts))?["signed"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    for ((file, id, is_pdf), s) in ids.iter().zip(&signed) {
        let version = s["version"]
            .as_i64()
            .ok_or_else(|| CliError::internal("no version in the answer"))?;
        let r = server.call("GET", &format!("/api/v1/documents/{id}/versions/{version}"), None, &[])?;
        let want = if *is_pdf {
            "application/pdf"
        } else {
            "application/pkcs7-signature"
        };
        if r.content_type.as_deref() != Some(want) {
            return Err(CliError::internal(format!(
                "the server sent {:?} for document {id}, expected {want}",
                r.content_type.as_deref()
            )));
        }
        let job = if *is_pdf { Job::Pdf } else { Job::Detached };
        let out = cmd_sign::output_for(a, file, job);
        if out.exists() && !a.force {
            return Err(CliError::input(format!(
                "{} exists; use --force to overwrite",
                out.display()
            )));
        }
        inputs::write_atomic(&out, &r.body, false)?;
        println!(
            "signed {} -> {} ({} on {}, document {id})",
            file.display(),
            out.display(),
            s["format"].as_str().unwrap_or(""),
            server.base
        );
    }
    Ok(Exit::Ok)
}
