//! moto's server mode: a real SNS- and SQS-speaking server on a loopback port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::{BoxError, free_port, http, poll_until};

/// `$MOTO_SERVER`, or the project's virtualenv's `moto_server`.
pub fn server_path() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server"))
}

pub struct Moto {
    pub endpoint: String,
    _child: Child,
}

impl Moto {
    /// Starts `moto_server` (from the project's virtualenv) and waits until it answers.
    pub async fn start(moto_server: &Path) -> Result<Moto, BoxError> {
        if !moto_server.exists() {
            return Err(format!(
                "{} not found: run `make venv` (or `make test`, which does it)",
                moto_server.display()
            )
            .into());
        }
        let port = free_port()?;
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let probe = format!("{endpoint}/moto-api/");
        poll_until(Duration::from_secs(30), "moto to answer", || {
            let probe = probe.clone();
            async move { http::send("GET", &probe, "text/plain", "").await.ok() }
        })
        .await?;
        Ok(Moto {
            endpoint,
            _child: child,
        })
    }

    /// What moto recorded as published to `topic_arn`: `(message, subject)` pairs. moto
    /// delivers nothing by e-mail, so this is how the e-mail rendering is shown locally.
    pub async fn published_to(&self, topic_arn: &str) -> Result<Vec<(String, String)>, BoxError> {
        let url = format!("{}/moto-api/data.json", self.endpoint);
        let (_, body) = http::send("GET", &url, "application/json", "").await?;
        let data: Value = serde_json::from_str(&body)?;
        let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
        let topic = topics
            .iter()
            .find(|t| t["arn"] == topic_arn)
            .ok_or("topic not found in moto's data")?;
        Ok(topic["sent_notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|n| {
                (
                    n[1].as_str().unwrap_or_default().to_string(),
                    n[2].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }
}
