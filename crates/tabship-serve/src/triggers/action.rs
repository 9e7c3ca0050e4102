//! Running a trigger's actions: the command and the webhook, each bounded by the timeout,
//! each outcome logged and counted (`tabship_retrain_actions_total`).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::Payload;
use crate::state::AppState;

/// The last `max` bytes of a command's output, for the log line (whole UTF-8 characters).
fn tail(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

/// Runs `sh -c command` with the payload on stdin and in `TABSHIP_TRIGGER`; the error says
/// why it failed (could not start, exit status and the end of stderr, timeout).
async fn command(
    command: &str,
    payload: &str,
    server_url: Option<&str>,
    timeout: Duration,
) -> Result<String, String> {
    let mut child = tokio::process::Command::new("sh");
    if let Some(url) = server_url {
        child.env("TABSHIP_SERVER_URL", url);
    }
    let mut child = child
        .arg("-c")
        .arg(command)
        .env("TABSHIP_TRIGGER", payload)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A command past its timeout is killed when its future is dropped.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start `sh -c`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let payload = payload.as_bytes().to_vec();
        // Written alongside the wait: a command that never reads stdin must not block us.
        tokio::spawn(async move {
            let _ = stdin.write_all(&payload).await;
        });
    }
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(format!(
            "timed out after {} s and was killed",
            timeout.as_secs_f64()
        )),
        Ok(Err(e)) => Err(format!("could not wait for the command: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(tail(&out.stdout, 500)),
        Ok(Ok(out)) => Err(format!(
            "exited with {}: {}",
            out.status,
            tail(&out.stderr, 500)
        )),
    }
}

/// POSTs the payload; any status but 2xx is an error naming it.
async fn webhook(client: &reqwest::Client, url: &str, payload: &str) -> Result<String, String> {
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_owned())
        .send()
        .await
        // Without the URL's query, which may carry a token.
        .map_err(|e| format!("could not POST: {}", e.without_url()))?;
    let status = response.status();
    if status.is_success() {
        Ok(status.to_string())
    } else {
        Err(format!("answered {status}"))
    }
}

/// Runs every configured action of a fired trigger, one after the other.
pub(super) async fn run_all(state: &AppState, payload: &Payload) {
    let Some(triggers) = &state.triggers else {
        return;
    };
    let actions = &triggers.policy.actions;
    let json = match serde_json::to_string(payload) {
        Ok(json) => json,
        Err(e) => {
            tracing::error!(error = %e, "could not write the trigger payload");
            return;
        }
    };
    if let Some(cmd) = &actions.command {
        let url = triggers.server_url.get().map(String::as_str);
        let outcome = command(cmd, &json, url, actions.timeout).await;
        report(state, payload, "command", outcome);
    }
    if let Some(url) = &actions.webhook {
        let outcome = webhook(&triggers.client, url, &json).await;
        report(state, payload, "webhook", outcome);
    }
}

fn report(
    state: &AppState,
    payload: &Payload,
    action: &'static str,
    outcome: Result<String, String>,
) {
    state
        .metrics
        .retrain_action(&payload.model, action, outcome.is_ok());
    match outcome {
        Ok(output) => tracing::info!(
            model = %payload.model,
            version = %payload.version,
            action,
            output = %output,
            "retraining action done"
        ),
        Err(error) => tracing::error!(
            model = %payload.model,
            version = %payload.version,
            action,
            error = %error,
            "retraining action failed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_reads_the_payload_and_its_failures_are_explained() {
        let out = command(
            "cat; echo \" $TABSHIP_TRIGGER $TABSHIP_SERVER_URL\"",
            "{\"a\":1}",
            Some("http://127.0.0.1:1"),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert_eq!(out, "{\"a\":1} {\"a\":1} http://127.0.0.1:1");
        let err = command("echo boom >&2; exit 3", "{}", None, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(
            err.contains("exit status: 3") && err.ends_with("boom"),
            "{err}"
        );
        // Never reads stdin, and outlives its timeout: killed, not waited for.
        let err = command("exec sleep 30", "{}", None, Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.contains("timed out"), "{err}");
    }

    #[test]
    fn tail_keeps_whole_characters() {
        assert_eq!(tail("ééé".as_bytes(), 3), "é");
        assert_eq!(tail(b"  abc \n", 10), "abc");
    }
}
