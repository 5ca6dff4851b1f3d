//! The go-live commands against a deployed stack played on this machine (moto's
//! CloudFormation, SNS, SQS and DynamoDB; the real bootstrap with the reconnect window;
//! the hold queue's event source mapping): `verify.py` passes on a working stack, fails
//! with its cause on a wrong key, removes what it created (also when interrupted, and
//! with `--leftovers`), and `tencent_connect.py --dry-run --offline` plans exactly the
//! calls a new account needs, the key masked.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use common::{INTERRUPT, START, now, signed_with};

use local_stack::BoxError;
use local_stack::aws::{self, sqs_client};
use local_stack::deployment::{CALLBACK_KEY, LocalDeployment};
use tokio::process::Command;

const WINDOW_SECS: u64 = 2;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    root().join(".venv/bin/python")
}

async fn deployment() -> Result<LocalDeployment, BoxError> {
    LocalDeployment::start(
        env!("CARGO_BIN_EXE_live-callback-relay").as_ref(),
        WINDOW_SECS,
    )
    .await
}

fn tool(deployment: &LocalDeployment, script: &str, args: &[&str], key: &str) -> Command {
    let mut command = Command::new(python());
    command
        .arg(root().join("tools").join(script))
        .args(["--stack", &deployment.stack_name])
        .args(args)
        .envs(deployment.environment())
        .env("CALLBACK_KEY", key)
        .env_remove("CALLBACK_PATH_SECRET")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run(mut command: Command) -> Result<(i32, String), BoxError> {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().await?;
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    Ok((status.code().unwrap_or(-1), shown))
}

/// The verifier's queues still in moto, and the subscriptions of the topic and the chat
/// topic.
async fn left_behind(deployment: &LocalDeployment) -> Result<(Vec<String>, usize), BoxError> {
    let queues = sqs_client(&deployment.moto.endpoint)
        .list_queues()
        .queue_name_prefix("lcr-verify-")
        .send()
        .await?
        .queue_urls
        .unwrap_or_default();
    let sns = aws::sns_client(&deployment.moto.endpoint);
    let mut subscriptions = 0;
    for topic in [&deployment.topic_arn, &deployment.chat_topic_arn] {
        subscriptions += sns
            .list_subscriptions_by_topic()
            .topic_arn(topic)
            .send()
            .await?
            .subscriptions
            .unwrap_or_default()
            .len();
    }
    Ok((queues, subscriptions))
}

/// A callback of a stream of the stack's own (`event_type` 1 or 0, push `n`), signed with
/// its key.
fn real_callback(event_type: u8, n: u64) -> String {
    let at = now();
    let sample = if event_type == 1 { START } else { INTERRUPT };
    signed_with(
        CALLBACK_KEY,
        sample,
        serde_json::json!({
            "t": at + 600, "stream_id": "someone-live", "event_time": at,
            "sequence": format!("real-{n}"), "errcode": 13, "push_duration": "1000"
        }),
    )
}

/// The credentials `verify.py` plants in its test callbacks.
async fn planted_credentials() -> Result<Vec<String>, BoxError> {
    let output = Command::new(python())
        .current_dir(root().join("tools"))
        .args([
            "-c",
            "import json, verify; print(json.dumps(list(verify.PLANTED.values())))",
        ])
        .output()
        .await?;
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn rows(shown: &str) -> Vec<&str> {
    shown
        .lines()
        .map(str::trim_end)
        .filter(|l| l.ends_with("| pass") || l.ends_with("| FAIL"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: make e2e"]
async fn verify_passes_on_a_working_stack_and_names_the_cause_of_a_wrong_key()
-> Result<(), BoxError> {
    let deployment = deployment().await?;
    let settle = ["--settle", "1", "--timeout", "30"];

    // the stack's own traffic meanwhile: another stream starting and dropping
    let url = format!("{}callback", deployment.function.url);
    let traffic = tokio::spawn(async move {
        for n in 0u64.. {
            for body in [real_callback(1, n), real_callback(0, n)] {
                let _ = local_stack::http::post_json(&url, &body).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let (code, shown) = run(tool(&deployment, "verify.py", &settle, CALLBACK_KEY)).await?;
    traffic.abort();
    println!("{shown}");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("notifications of other streams"), "{shown}");
    let passed = rows(&shown);
    for check in [
        "callback: forged (signed with another key)",
        "callback: expired (t an hour past the clock-skew allowance)",
        "callback: blip: start again",
        "callback: drop: abnormal stop",
        "queue, unfiltered",
        "queue, preset on-call",
        "queue, preset abnormal-stops",
        "queue, preset starts",
        "documents valid against schema/notification.schema.json",
        "queue, chat topic",
        "push-URL credentials masked in every message, subject and attribute",
    ] {
        assert!(
            passed
                .iter()
                .any(|row| row.starts_with(check) && row.ends_with("| pass")),
            "{check}: {shown}"
        );
    }
    assert!(passed.len() >= 10, "{shown}");
    assert!(!shown.contains(CALLBACK_KEY), "the key was printed");
    // what no queue shows: every rendering published (e-mail and SMS too), as moto kept it
    let planted = planted_credentials().await?;
    let published = deployment.moto.published_to(&deployment.topic_arn).await?;
    assert!(published.len() >= 4, "{published:?}");
    for (message, subject) in &published {
        for secret in &planted {
            assert!(
                !message.contains(secret.as_str()) && !subject.contains(secret.as_str()),
                "{secret} in {message}"
            );
        }
    }
    assert_eq!(left_behind(&deployment).await?, (vec![], 0), "{shown}");

    let (code, shown) = run(tool(
        &deployment,
        "verify.py",
        &settle,
        "not-the-stacks-key",
    ))
    .await?;
    println!("{shown}");
    assert_eq!(code, 1, "{shown}");
    assert!(
        rows(&shown).iter().any(|row| row.ends_with("| FAIL")),
        "{shown}"
    );
    assert!(shown.contains("wrong key: CALLBACK_KEY"), "{shown}");
    assert!(!shown.contains("not-the-stacks-key"), "the key was printed");
    assert_eq!(left_behind(&deployment).await?, (vec![], 0), "{shown}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: make e2e"]
async fn an_interrupted_verify_removes_what_it_created_and_leftovers_are_found()
-> Result<(), BoxError> {
    let deployment = deployment().await?;
    let verify = tool(&deployment, "verify.py", &["--settle", "30"], CALLBACK_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    local_stack::poll_until(Duration::from_secs(30), "the verifier's queues", || async {
        let (queues, subscriptions) = left_behind(&deployment).await.ok()?;
        (queues.len() == 5 && subscriptions == 5).then_some(())
    })
    .await?;
    let pid = verify.id().ok_or("verify.py exited early")?;
    local_stack::signal(pid, "TERM")?;
    let Output { status, stderr, .. } = verify.wait_with_output().await?;
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("interrupted; what was created is removed"),
        "{stderr}"
    );
    assert_eq!(left_behind(&deployment).await?, (vec![], 0));

    // a run killed outright leaves its queues; --leftovers finds them by their tag
    let mut verify = tool(&deployment, "verify.py", &["--settle", "30"], CALLBACK_KEY).spawn()?;
    local_stack::poll_until(Duration::from_secs(30), "the verifier's queues", || async {
        let (queues, subscriptions) = left_behind(&deployment).await.ok()?;
        (queues.len() == 5 && subscriptions == 5).then_some(())
    })
    .await?;
    verify.kill().await?;
    let other = sqs_client(&deployment.moto.endpoint)
        .create_queue()
        .queue_name("lcr-verify-someone-elses")
        .send()
        .await?;
    let (code, shown) = run(tool(
        &deployment,
        "verify.py",
        &["--leftovers"],
        CALLBACK_KEY,
    ))
    .await?;
    assert_eq!(
        (code, shown.trim()),
        (0, "removed 0 queues left by earlier runs"),
        "a run younger than an hour may be going on"
    );
    let (code, shown) = run(tool(
        &deployment,
        "verify.py",
        &["--leftovers", "--older-than", "0"],
        CALLBACK_KEY,
    ))
    .await?;
    assert_eq!(
        (code, shown.trim()),
        (0, "removed 5 queues left by earlier runs")
    );
    let (queues, subscriptions) = left_behind(&deployment).await?;
    assert_eq!(
        (queues, subscriptions),
        (vec![other.queue_url.unwrap_or_default()], 0)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: make e2e"]
async fn tencent_connect_plans_a_new_account_with_the_key_masked() -> Result<(), BoxError> {
    let deployment = deployment().await?;
    let args = ["--domain", "push.example.com", "--dry-run", "--offline"];
    let (code, shown) = run(tool(&deployment, "tencent_connect.py", &args, CALLBACK_KEY)).await?;
    println!("{shown}");
    assert_eq!(code, 0, "{shown}");
    let url = format!("{}callback", deployment.function.url);
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        [
            format!("template lcr-us-east-1-live-callback-relay-local: {url}, bound to push.example.com/live"),
            "would call: (planned for an empty account)".to_string(),
            format!(
                "  CreateLiveCallbackTemplate {{\"CallbackKey\": \"***\", \"Description\": \"live-callback-relay\", \
                 \"StreamBeginNotifyUrl\": \"{url}\", \"StreamEndNotifyUrl\": \
                 \"{url}\", \"TemplateName\": \"lcr-us-east-1-live-callback-relay-local\"}}"
            ),
            "  CreateLiveCallbackRule {\"AppName\": \"live\", \"DomainName\": \"push.example.com\", \"TemplateId\": \
             \"<the new template's id>\"}"
                .to_string(),
        ]
    );
    assert!(!shown.contains(CALLBACK_KEY));
    Ok(())
}
