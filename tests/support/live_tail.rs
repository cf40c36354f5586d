//! CloudWatch Logs Live Tail for tests, over real HTTP.
//!
//! The SDK sends StartLiveTail to `stream-<host>` (the operation's endpoint prefix, applied to a
//! custom endpoint too), so against an emulator at `127.0.0.1` it goes to `stream-127.0.0.1`, which
//! does not resolve. [`loopback_client`] builds a CloudWatch Logs client whose resolver sends every
//! host name to loopback. moto 5.2.5 answers StartLiveTail only with a finished session (its
//! stored events in one update, then the end), so [`LiveTailStub`] answers one StartLiveTail the
//! way a test needs: an error, or HTTP 200 with an `application/vnd.amazon.eventstream` body that
//! the test writes message by message ([`LiveTailStub::send`]) and ends ([`LiveTailStub::end`]).

use std::net::{IpAddr, Ipv4Addr};

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use ecsmon::source::aws::CallStats;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// How the stub answers StartLiveTail.
pub enum Answer {
    /// HTTP 200 and an event stream of the messages the test sends.
    Stream,
    /// An AWS JSON error: HTTP status, `__type` and message.
    Error(u16, &'static str, &'static str),
}

/// The StartLiveTail request the stub received.
#[derive(Debug)]
pub struct Received {
    /// The `Host` header: `stream-127.0.0.1:<port>`.
    pub host: String,
    /// The `X-Amz-Target` header: `Logs_20140328.StartLiveTail`.
    pub target: String,
    pub body: Value,
}

pub struct LiveTailStub {
    /// `http://127.0.0.1:<port>`: the endpoint URL to configure (the SDK adds `stream-`).
    pub endpoint: String,
    received: Option<oneshot::Receiver<Received>>,
    frames: Option<mpsc::UnboundedSender<Vec<u8>>>,
}

impl LiveTailStub {
    /// Listens on a free loopback port and serves one request as `answer` says.
    pub async fn start(answer: Answer) -> LiveTailStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let (received_tx, received) = oneshot::channel();
        let (frames, frames_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            serve(socket, answer, received_tx, frames_rx).await;
        });
        LiveTailStub {
            endpoint,
            received: Some(received),
            frames: Some(frames),
        }
    }

    /// A CloudWatch Logs client for this stub: [`loopback_client`] at its endpoint.
    pub fn client(&self, region: &str, stats: &CallStats) -> aws_sdk_cloudwatchlogs::Client {
        loopback_client(&self.endpoint, region, stats)
    }

    /// The request the stub answered (waits for it).
    pub async fn received(&mut self) -> Received {
        self.received
            .take()
            .expect("received() is called once")
            .await
            .expect("the stub received no StartLiveTail")
    }

    /// Writes one event-stream message to the response body.
    pub fn send(&self, message: Message) {
        let mut frame = Vec::new();
        write_message_to(&message, &mut frame).expect("encode an event-stream message");
        self.frames
            .as_ref()
            .expect("the stream has not ended")
            .send(frame)
            .expect("the stub is serving");
    }

    /// Ends the response body, as AWS does when it closes a session.
    pub fn end(&mut self) {
        self.frames = None;
    }
}

/// A CloudWatch Logs client for `endpoint` in `region`, with test credentials, counting its
/// calls into `stats`. Every host name resolves to loopback, so StartLiveTail's
/// `stream-127.0.0.1` reaches the endpoint's port.
pub fn loopback_client(
    endpoint: &str,
    region: &str,
    stats: &CallStats,
) -> aws_sdk_cloudwatchlogs::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_with_resolver(Loopback);
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new(
            region.to_string(),
        ))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .http_client(http)
        .interceptor(stats.interceptor())
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

/// A `sessionStart` event, as AWS sends first.
pub fn session_start(group_arn: &str) -> Message {
    event(
        "sessionStart",
        json!({
            "requestId": "req-1",
            "sessionId": "session-1",
            "logGroupIdentifiers": [group_arn],
        }),
    )
}

/// A `sessionUpdate` event carrying `(stream, timestamp in ms, message)` log events.
pub fn session_update(group_arn: &str, events: &[(&str, i64, &str)]) -> Message {
    let results: Vec<Value> = events
        .iter()
        .map(|(stream, timestamp, message)| {
            json!({
                "logStreamName": stream,
                "logGroupIdentifier": group_arn,
                "message": message,
                "timestamp": timestamp,
                "ingestionTime": timestamp + 150,
            })
        })
        .collect();
    event(
        "sessionUpdate",
        json!({ "sessionMetadata": { "sampled": false }, "sessionResults": results }),
    )
}

/// A modelled error in the stream (`SessionTimeoutException`, `SessionStreamingException`):
/// its kind in `:exception-type`, its message in the JSON payload.
pub fn exception(kind: &'static str, message: &str) -> Message {
    Message::new(json!({ "message": message }).to_string().into_bytes())
        .add_header(header(":message-type", "exception"))
        .add_header(header(":exception-type", kind))
        .add_header(header(":content-type", "application/json"))
}

fn event(kind: &'static str, payload: Value) -> Message {
    Message::new(payload.to_string().into_bytes())
        .add_header(header(":message-type", "event"))
        .add_header(header(":event-type", kind))
        .add_header(header(":content-type", "application/json"))
}

fn header(name: &'static str, value: &'static str) -> Header {
    Header::new(name, HeaderValue::String(value.into()))
}

async fn serve(
    socket: tokio::net::TcpStream,
    answer: Answer,
    received: oneshot::Sender<Received>,
    mut frames: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let mut reader = BufReader::new(socket);
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("request head");
        if line.trim().is_empty() {
            break;
        }
        headers.push(line.trim().to_string());
    }
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let mut body = vec![0; header("content-length").parse().unwrap_or(0)];
    reader.read_exact(&mut body).await.expect("request body");
    let _ = received.send(Received {
        host: header("host"),
        target: header("x-amz-target"),
        body: serde_json::from_slice(&body).expect("a JSON request"),
    });
    let mut socket = reader.into_inner();
    match answer {
        Answer::Error(status, kind, message) => {
            let body = json!({ "__type": kind, "message": message }).to_string();
            let head = format!(
                "HTTP/1.1 {status} Error\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 x-amzn-RequestId: req-1\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all((head + &body).as_bytes()).await;
        }
        Answer::Stream => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n\
                        x-amzn-RequestId: req-1\r\nTransfer-Encoding: chunked\r\n\r\n";
            socket.write_all(head.as_bytes()).await.expect("head");
            // Each message in its own chunk, written as the test sends it.
            while let Some(frame) = frames.recv().await {
                let mut chunk = format!("{:x}\r\n", frame.len()).into_bytes();
                chunk.extend_from_slice(&frame);
                chunk.extend_from_slice(b"\r\n");
                if socket.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        }
    }
    let _ = socket.shutdown().await;
}

/// Resolves every host name to 127.0.0.1.
#[derive(Debug, Clone)]
struct Loopback;

impl ResolveDns for Loopback {
    fn resolve_dns<'a>(&'a self, _name: &'a str) -> DnsFuture<'a> {
        DnsFuture::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    }
}
