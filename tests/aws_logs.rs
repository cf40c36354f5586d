//! CloudWatch Logs through the real SDK. FilterLogEvents runs against moto, behind the front in
//! `tests/moto/server.py`, which makes it behave like AWS where moto does not: at most 100
//! `logStreamNames`, a named stream that does not exist fails the whole call, and events of
//! several streams come interleaved by time. moto pages FilterLogEvents at 10,000 events, as AWS
//! does by default.
//!
//! The SDK sends StartLiveTail to `stream-<host>`: against moto at 127.0.0.1 that host does not
//! resolve, and the source must say Live Tail is not available at once (the console then polls).
//! Through a client whose resolver sends every name to loopback (`support::live_tail`), moto's
//! StartLiveTail answers a finished session; a local stub speaking the event-stream protocol
//! over HTTP covers a live one: updates as they come, a quiet second, errors, the end.

mod support;

use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use chrono::Utc;
use futures::StreamExt;
use serde_json::json;

use ecsmon::model::{LogEvent, LogQuery, Time};
use ecsmon::source::aws::{AwsSettings, AwsSource, CallStats, Clients};
use ecsmon::source::{ErrorKind, FleetSource, LogTail, SourceError};
use support::live_tail::{
    Answer, LiveTailStub, exception, loopback_client, session_start, session_update,
};
use support::{Moto, sdk_config, sdk_config_in};

fn source(moto: &Moto, config: &aws_config::SdkConfig) -> AwsSource {
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    AwsSource::from_config(config, settings).expect("region set")
}

/// A whole second an hour ago, in epoch milliseconds: inside what PutLogEvents accepts (14 days
/// back to 2 hours ahead), and before "now", where a query without an end stops.
fn base() -> i64 {
    (Utc::now().timestamp() - 3600) * 1000
}

/// Creates `group` and its `streams`, with no events.
async fn create(logs: &Client, group: &str, streams: &[&str]) {
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("CreateLogGroup");
    for stream in streams {
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name(*stream)
            .send()
            .await
            .expect("CreateLogStream");
    }
}

/// Puts `(timestamp in ms, message)` events into a stream, oldest first, in batches within
/// PutLogEvents' 10,000 events.
async fn put(logs: &Client, group: &str, stream: &str, events: &[(i64, String)]) {
    for batch in events.chunks(10_000) {
        let batch = batch
            .iter()
            .map(|(timestamp, message)| {
                InputLogEvent::builder()
                    .timestamp(*timestamp)
                    .message(message)
                    .build()
                    .expect("timestamp and message set")
            })
            .collect();
        let out = logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(batch))
            .send()
            .await
            .expect("PutLogEvents");
        assert!(out.rejected_log_events_info().is_none(), "{out:?}");
    }
}

fn lines(events: &[(i64, &str)]) -> Vec<(i64, String)> {
    events.iter().map(|(t, m)| (*t, m.to_string())).collect()
}

fn query(group: &str, streams: &[&str], start: i64, end: Option<i64>) -> LogQuery {
    LogQuery {
        group: group.into(),
        region: None,
        streams: streams.iter().map(|s| s.to_string()).collect(),
        start: at(start),
        end: end.map(at),
        limit: None,
    }
}

fn at(millis: i64) -> Time {
    Time::from_timestamp_millis(millis).expect("a valid time")
}

/// `(stream, milliseconds after t0, message)` of each event, in the order given.
fn seen(events: &[LogEvent], t0: i64) -> Vec<(String, i64, String)> {
    events
        .iter()
        .map(|e| {
            (
                e.stream.clone(),
                e.at.timestamp_millis() - t0,
                e.message.clone(),
            )
        })
        .collect()
}

fn line(stream: &str, offset: i64, message: &str) -> (String, i64, String) {
    (stream.to_string(), offset, message.to_string())
}

/// Two tasks' streams, interleaved in time, and a third stream that is not asked for.
async fn two_tasks(logs: &Client, group: &str, t0: i64) {
    create(logs, group, &["ecs/app/t1", "ecs/app/t2", "ecs/sidecar/t1"]).await;
    let t1 = [(t0, "t1 one"), (t0 + 20, "t1 two"), (t0 + 40, "t1 three")];
    put(logs, group, "ecs/app/t1", &lines(&t1)).await;
    let t2 = [(t0 + 10, "t2 one"), (t0 + 30, "t2 two")];
    put(logs, group, "ecs/app/t2", &lines(&t2)).await;
    put(
        logs,
        group,
        "ecs/sidecar/t1",
        &lines(&[(t0 + 15, "sidecar")]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_time_range_of_several_streams_comes_back_merged_oldest_first() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/backfill", base());
    two_tasks(&logs, group, t0).await;

    let q = query(group, &["ecs/app/t1", "ecs/app/t2"], t0, None);
    let events = source(moto, &config).log_events(&q).await.unwrap();
    assert_eq!(
        seen(&events, t0),
        vec![
            line("ecs/app/t1", 0, "t1 one"),
            line("ecs/app/t2", 10, "t2 one"),
            line("ecs/app/t1", 20, "t1 two"),
            line("ecs/app/t2", 30, "t2 two"),
            line("ecs/app/t1", 40, "t1 three"),
        ]
    );
    assert!(events.iter().all(|e| e.group == group), "{events:?}");
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "each event keeps its own eventId: {events:?}");
    assert!(!ids.contains(&""), "{events:?}");
}

/// With a limit the oldest events of the range come back. Against moto without the front's
/// interleaving this fails: moto would fill the page with the first stream's events.
#[tokio::test(flavor = "multi_thread")]
async fn a_limit_keeps_the_oldest_events_of_the_range() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/limited", base());
    two_tasks(&logs, group, t0).await;

    let q = LogQuery {
        limit: Some(3),
        ..query(group, &["ecs/app/t1", "ecs/app/t2"], t0, None)
    };
    let events = source(moto, &config).log_events(&q).await.unwrap();
    assert_eq!(
        seen(&events, t0),
        vec![
            line("ecs/app/t1", 0, "t1 one"),
            line("ecs/app/t2", 10, "t2 one"),
            line("ecs/app/t1", 20, "t1 two"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_start_is_inclusive_and_the_end_exclusive() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/range", base());
    create(&logs, group, &["ecs/app/t1"]).await;
    let seconds: Vec<(i64, String)> = (0..4).map(|s| (t0 + s * 1000, format!("s{s}"))).collect();
    put(&logs, group, "ecs/app/t1", &seconds).await;
    let source = source(moto, &config);

    let q = query(group, &["ecs/app/t1"], t0 + 1000, Some(t0 + 3000));
    let events = source.log_events(&q).await.unwrap();
    assert_eq!(
        seen(&events, t0),
        vec![
            line("ecs/app/t1", 1000, "s1"),
            line("ecs/app/t1", 2000, "s2")
        ]
    );

    // No end: up to now.
    let q = query(group, &["ecs/app/t1"], t0 + 1, None);
    let events = source.log_events(&q).await.unwrap();
    assert_eq!(seen(&events, t0).len(), 3, "{events:?}");
    assert_eq!(events[0].message, "s1");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_is_read_and_a_limit_stops_the_paging() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/chatty", base());
    create(&logs, group, &["ecs/app/t1", "ecs/app/t2"]).await;
    // 12,000 events, one a millisecond, alternating between the two streams.
    let even: Vec<(i64, String)> = (0..6000).map(|i| (t0 + 2 * i, format!("t1 {i}"))).collect();
    let odd: Vec<(i64, String)> = (0..6000)
        .map(|i| (t0 + 2 * i + 1, format!("t2 {i}")))
        .collect();
    put(&logs, group, "ecs/app/t1", &even).await;
    put(&logs, group, "ecs/app/t2", &odd).await;
    let source = source(&moto, &config);
    let both = ["ecs/app/t1", "ecs/app/t2"];

    moto.reset_stats().await;
    let events = source
        .log_events(&query(group, &both, t0, None))
        .await
        .unwrap();
    assert_eq!(events.len(), 12_000);
    let offsets: Vec<i64> = events
        .iter()
        .map(|e| e.at.timestamp_millis() - t0)
        .collect();
    assert_eq!(
        offsets,
        (0..12_000).collect::<Vec<i64>>(),
        "every event, in order"
    );
    assert_eq!(events[11_999].message, "t2 5999");
    assert_eq!(
        moto.calls("logs:FilterLogEvents").await,
        2,
        "10,000 events a page"
    );

    for (limit, calls) in [(10, 1), (10_000, 1), (10_001, 2)] {
        moto.reset_stats().await;
        let q = LogQuery {
            limit: Some(limit),
            ..query(group, &both, t0, None)
        };
        let events = source.log_events(&q).await.unwrap();
        let offsets: Vec<i64> = events
            .iter()
            .map(|e| e.at.timestamp_millis() - t0)
            .collect();
        assert_eq!(
            offsets,
            (0..limit as i64).collect::<Vec<i64>>(),
            "limit {limit}"
        );
        assert_eq!(
            moto.calls("logs:FilterLogEvents").await,
            calls,
            "limit {limit}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_100_streams_are_read_in_calls_of_100() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/wide", base());
    let names: Vec<String> = (0..150).map(|i| format!("ecs/app/{i:03}")).collect();
    let streams: Vec<&str> = names.iter().map(String::as_str).collect();
    create(&logs, group, &streams).await;
    // One event in each of the first and last stream of both calls, newest in the first.
    for (stream, offset) in [("ecs/app/000", 3), ("ecs/app/099", 2), ("ecs/app/100", 1)] {
        put(&logs, group, stream, &lines(&[(t0 + offset, stream)])).await;
    }
    put(&logs, group, "ecs/app/149", &lines(&[(t0, "ecs/app/149")])).await;

    moto.reset_stats().await;
    let events = source(&moto, &config)
        .log_events(&query(group, &streams, t0, None))
        .await
        .unwrap();
    assert_eq!(
        seen(&events, t0),
        vec![
            line("ecs/app/149", 0, "ecs/app/149"),
            line("ecs/app/100", 1, "ecs/app/100"),
            line("ecs/app/099", 2, "ecs/app/099"),
            line("ecs/app/000", 3, "ecs/app/000"),
        ]
    );
    assert_eq!(moto.calls("logs:FilterLogEvents").await, 2, "100 + 50");
}

/// AWS fails a FilterLogEvents call naming a stream that does not exist yet, as the streams of a
/// task still pulling its images do; the other streams must still be read.
#[tokio::test(flavor = "multi_thread")]
async fn streams_not_created_yet_read_as_empty_and_alone_are_not_found() {
    let moto = Moto::start(); // its own server: this test counts calls
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/deploying", base());
    create(&logs, group, &["ecs/app/a", "ecs/app/c"]).await;
    put(&logs, group, "ecs/app/a", &lines(&[(t0, "from a")])).await;
    put(&logs, group, "ecs/app/c", &lines(&[(t0 + 1, "from c")])).await;
    let source = source(&moto, &config);

    moto.reset_stats().await;
    let q = query(group, &["ecs/app/a", "ecs/app/b", "ecs/app/c"], t0, None);
    let events = source.log_events(&q).await.unwrap();
    assert_eq!(
        seen(&events, t0),
        vec![
            line("ecs/app/a", 0, "from a"),
            line("ecs/app/c", 1, "from c")
        ]
    );
    // [a b c] fails, [a] reads, [b c] fails, [b] fails, [c] reads.
    assert_eq!(moto.calls("logs:FilterLogEvents").await, 5);

    let err = source
        .log_events(&query(group, &["ecs/app/b"], t0, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "log stream ecs/app/b in /ecs/deploying does not exist yet: the container has not started logging"
    );

    let err = source
        .log_events(&query(group, &["ecs/app/b", "ecs/app/d"], t0, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "none of the 2 log streams in /ecs/deploying exists yet: the containers have not started logging"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_group_that_does_not_exist_is_not_found_in_plain_words() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let err = source(moto, &config)
        .log_events(&query("/ecs/nowhere", &["ecs/app/t1"], base(), None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "log group /ecs/nowhere does not exist (check awslogs-group in the task definition)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_without_events_read_as_empty() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    create(&logs, "/ecs/quiet", &["ecs/app/t1"]).await;
    let events = source(moto, &config)
        .log_events(&query("/ecs/quiet", &["ecs/app/t1"], base(), None))
        .await
        .unwrap();
    assert_eq!(events, Vec::new());
}

/// `awslogs-region` may name another region than the console's: the group is read there.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_in_another_region_is_read_in_that_region() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    let west = Client::new(&sdk_config_in(&moto.endpoint, "us-west-2").await);
    let (group, t0) = ("/ecs/oregon", base());
    create(&west, group, &["ecs/app/t1"]).await;
    put(
        &west,
        group,
        "ecs/app/t1",
        &lines(&[(t0, "from us-west-2")]),
    )
    .await;
    let source = source(moto, &config);

    let q = LogQuery {
        region: Some("us-west-2".into()),
        ..query(group, &["ecs/app/t1"], t0, None)
    };
    let events = source.log_events(&q).await.unwrap();
    assert_eq!(
        seen(&events, t0),
        vec![line("ecs/app/t1", 0, "from us-west-2")]
    );

    // moto keeps regions apart: read in the console's region, the group is not there.
    for region in [None, Some("us-east-1".to_string())] {
        let q = LogQuery {
            region,
            ..q.clone()
        };
        let err = source.log_events(&q).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{}", err.message);
    }
}

#[tokio::test]
async fn access_denied_names_the_permission() {
    let denied = mock!(Client::filter_log_events).then_error(|| {
        FilterLogEventsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::1:user/bob is not authorized to perform: logs:FilterLogEvents")
                .build(),
        )
    });
    let logs = mock_client!(aws_sdk_cloudwatchlogs, [&denied]);
    let source = support::mocked_source("eu-west-3", None, |c| Clients { logs, ..c });
    let err = source
        .log_events(&query("/ecs/cart", &["ecs/app/t1"], base(), None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(
        err.message,
        "AccessDenied for logs:FilterLogEvents on log group /ecs/cart"
    );
}

// ------------------------------------------------------------------------------------------------
// Live Tail

/// moto's StartLiveTail is out of the SDK's reach (its `stream-` host): the source must say so
/// at once, which is what makes the console fall back to polling FilterLogEvents.
#[tokio::test(flavor = "multi_thread")]
async fn live_tail_against_moto_fails_at_once() {
    let moto = Moto::shared();
    let config = sdk_config(&moto.endpoint).await;
    // "At once" is the message: unreachable, not the 10 s "no answer in time" (timing it
    // would race a busy machine).
    let err = source(moto, &config)
        .live_tail("/ecs/cart", &["ecs/app/t1".to_string()])
        .await
        .err()
        .expect("no Live Tail from moto");
    let host = moto.endpoint.trim_start_matches("http://");
    assert_eq!(
        err.message,
        format!("Live Tail not available: cannot reach stream-{host}")
    );
}

/// moto 5.2.5 serves StartLiveTail as a finished session: the streams' stored events in one
/// update, then the end. Reached at its `stream-` host through a resolver that sends every name
/// to loopback, it proves the source reads an event stream encoded by someone else than the test.
#[tokio::test(flavor = "multi_thread")]
async fn moto_reached_at_its_stream_host_replays_the_stored_events_then_ends() {
    // Its own server: moto's StartLiveTail answers for the region's last log group, whatever
    // the ARN asked for, so there must be only this one.
    let moto = Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let logs = Client::new(&config);
    let (group, t0) = ("/ecs/replayed", base());
    create(
        &logs,
        group,
        &["ecs/app/t1", "ecs/app/t2", "ecs/sidecar/t1"],
    )
    .await;
    put(
        &logs,
        group,
        "ecs/app/t1",
        &lines(&[(t0, "one"), (t0 + 2, "three")]),
    )
    .await;
    put(&logs, group, "ecs/app/t2", &lines(&[(t0 + 1, "two")])).await;
    put(
        &logs,
        group,
        "ecs/sidecar/t1",
        &lines(&[(t0, "not asked for")]),
    )
    .await;
    let stats = CallStats::default();
    let clients = Clients {
        logs: loopback_client(&moto.endpoint, "us-east-1", &stats),
        ..Clients::new(&config, &stats)
    };
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let source = AwsSource::from_clients(clients, settings, "us-east-1".into(), stats);

    let streams = ["ecs/app/t1".to_string(), "ecs/app/t2".to_string()];
    let mut tail = source.live_tail(group, &streams).await.expect("a session");
    let batch = next(&mut tail).await.expect("the replay").expect("events");
    assert_eq!(
        seen(&batch, t0),
        vec![
            line("ecs/app/t1", 0, "one"),
            line("ecs/app/t2", 1, "two"),
            line("ecs/app/t1", 2, "three"),
        ]
    );
    assert!(next(&mut tail).await.is_none(), "moto ends the session");
    assert_eq!(moto.calls("logs:StartLiveTail").await, 1);
}

const GROUP_ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/cart";

/// A source whose CloudWatch Logs client talks to `stub`; STS (for the account in the log
/// group's ARN) and everything else go to moto.
async fn stub_source(moto: &Moto, stub: &LiveTailStub) -> AwsSource {
    let config = sdk_config(&moto.endpoint).await;
    let stats = CallStats::default();
    let clients = Clients {
        logs: stub.client("us-east-1", &stats),
        ..Clients::new(&config, &stats)
    };
    let settings = AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(stub.endpoint.clone()),
    };
    AwsSource::from_clients(clients, settings, "us-east-1".into(), stats)
}

/// The next item, failing the test rather than hanging when none comes.
async fn next(tail: &mut LogTail) -> Option<Result<Vec<LogEvent>, SourceError>> {
    tokio::time::timeout(Duration::from_secs(10), tail.next())
        .await
        .expect("the tail answered within 10 s")
}

fn tailed(id: &str, millis: i64, stream: &str, message: &str) -> LogEvent {
    LogEvent {
        id: id.into(),
        at: at(millis),
        group: "/ecs/cart".into(),
        stream: stream.into(),
        message: message.into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn live_tail_delivers_each_update_as_it_arrives_until_the_session_ends() {
    let moto = Moto::shared();
    let mut stub = LiveTailStub::start(Answer::Stream).await;
    let source = stub_source(moto, &stub).await;
    let streams = vec!["ecs/app/t1".to_string(), "ecs/app/t2".to_string()];
    // AWS starts every session with SessionStart, and the SDK's `send` waits for it.
    stub.send(session_start(GROUP_ARN));
    let mut tail = source
        .live_tail("/ecs/cart", &streams)
        .await
        .expect("a session");

    let request = stub.received().await;
    let stub_host = stub.endpoint.trim_start_matches("http://");
    assert_eq!(request.host, format!("stream-{stub_host}"));
    assert_eq!(request.target, "Logs_20140328.StartLiveTail");
    assert_eq!(request.body["logGroupIdentifiers"], json!([GROUP_ARN]));
    assert_eq!(request.body["logStreamNames"], json!(streams));

    let t0 = base();
    // Out of order within the update: the batch comes oldest first.
    stub.send(session_update(
        GROUP_ARN,
        &[
            ("ecs/app/t2", t0 + 5, "second"),
            ("ecs/app/t1", t0, "first"),
        ],
    ));
    // Delivered while the session is still open: nothing waits for the end of the body.
    let first = next(&mut tail).await.expect("an update").expect("events");
    assert_eq!(
        first,
        vec![
            tailed(&format!("lt-{t0}-ecs/app/t1-2"), t0, "ecs/app/t1", "first"),
            tailed(
                &format!("lt-{}-ecs/app/t2-1", t0 + 5),
                t0 + 5,
                "ecs/app/t2",
                "second"
            ),
        ]
    );

    // A quiet second (an empty update) yields nothing; the next line comes on its own.
    stub.send(session_update(GROUP_ARN, &[]));
    stub.send(session_update(
        GROUP_ARN,
        &[("ecs/app/t1", t0 + 9, "third")],
    ));
    let second = next(&mut tail).await.expect("an update").expect("events");
    assert_eq!(
        second,
        vec![tailed(
            &format!("lt-{}-ecs/app/t1-3", t0 + 9),
            t0 + 9,
            "ecs/app/t1",
            "third"
        )]
    );

    stub.end();
    assert!(
        next(&mut tail).await.is_none(),
        "the stream ends with the session"
    );
    let stat = source
        .stats()
        .calls
        .into_iter()
        .find(|s| s.operation == "logs:StartLiveTail")
        .expect("counted");
    assert_eq!((stat.calls, stat.errors), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_in_the_session_ends_the_tail_with_the_reason() {
    let moto = Moto::shared();
    let stub = LiveTailStub::start(Answer::Stream).await;
    let source = stub_source(moto, &stub).await;
    stub.send(session_start(GROUP_ARN));
    let mut tail = source
        .live_tail("/ecs/cart", &["ecs/app/t1".to_string()])
        .await
        .expect("a session");
    let t0 = base();
    stub.send(session_update(
        GROUP_ARN,
        &[("ecs/app/t1", t0, "last words")],
    ));
    stub.send(exception(
        "SessionTimeoutException",
        "Session timed out after 3 hours",
    ));

    let batch = next(&mut tail).await.expect("an update").expect("events");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].message, "last words");
    let err = next(&mut tail).await.expect("the error").unwrap_err();
    assert_eq!(
        err.message,
        "Live Tail ended: the session reached Live Tail's 3-hour limit"
    );
    assert!(next(&mut tail).await.is_none(), "nothing after the error");
}

#[tokio::test(flavor = "multi_thread")]
async fn live_tail_refused_by_aws_is_not_available_in_plain_words() {
    let moto = Moto::shared();
    let mut stub = LiveTailStub::start(Answer::Error(
        400,
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: logs:StartLiveTail",
    ))
    .await;
    let source = stub_source(moto, &stub).await;
    let err = source
        .live_tail("/ecs/cart", &["ecs/app/t1".to_string()])
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(
        err.message,
        "Live Tail not available: AccessDenied for logs:StartLiveTail on log group /ecs/cart"
    );
    assert_eq!(
        stub.received().await.body["logGroupIdentifiers"],
        json!([GROUP_ARN])
    );
}

/// A server that accepts StartLiveTail but never starts the session: the SDK would wait for the
/// first event forever.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_that_never_starts_is_not_available_after_10_seconds() {
    let moto = Moto::shared();
    let stub = LiveTailStub::start(Answer::Stream).await;
    let source = stub_source(moto, &stub).await;
    let started = Instant::now();
    let err = source
        .live_tail("/ecs/cart", &["ecs/app/t1".to_string()])
        .await
        .err()
        .expect("no session");
    // The timer starts after `started`, so this bound holds however busy the machine is; the
    // message below says it was the timeout (no upper bound: that would race a busy machine).
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(10), "{waited:?}");
    let stub_host = stub.endpoint.trim_start_matches("http://");
    assert_eq!(err.kind, ErrorKind::Network);
    assert_eq!(
        err.message,
        format!("Live Tail not available: no answer from stream-{stub_host} in time")
    );
}
