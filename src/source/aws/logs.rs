//! CloudWatch Logs: a time range of some streams of a group (`FilterLogEvents`), and new events
//! as they arrive (`StartLiveTail`).

use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::Region;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;
use aws_sdk_cloudwatchlogs::primitives::event_stream::EventReceiver;
use aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError;
use aws_sdk_cloudwatchlogs::types::{
    FilteredLogEvent, LiveTailSessionLogEvent, StartLiveTailResponseStream,
};
use futures::future::BoxFuture;

use super::{AwsSource, CallStats, ErrorContext, failed};
use crate::model::{LogEvent, LogQuery, Time, bounded_message};
use crate::source::{ErrorKind, LogTail, SourceError};

const FILTER: &str = "logs:FilterLogEvents";
const LIVE_TAIL: &str = "logs:StartLiveTail";

/// AWS's limit on `logStreamNames` in one `FilterLogEvents` or `StartLiveTail` call.
pub const STREAMS_PER_CALL: usize = 100;

/// The most events one `FilterLogEvents` page holds (its `limit`, which is also the default).
const EVENTS_PER_PAGE: usize = 10_000;

/// How long opening a Live Tail session may take. The SDK's `send` returns only once the first
/// event (SessionStart) has arrived, and no SDK timeout covers that wait: a server that accepts
/// the request but never starts the session would otherwise hold the pane forever.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What reading some streams found: their events, and for each stream that does not exist
/// yet, the error that says so.
#[derive(Default)]
struct Read {
    events: Vec<LogEvent>,
    missing: Vec<SourceError>,
}

impl Read {
    fn absorb(&mut self, other: Read) {
        self.events.extend(other.events);
        self.missing.extend(other.missing);
    }
}

/// A failed `FilterLogEvents` call, explained, and whether it failed only because one of the
/// named streams does not exist.
struct Failed {
    error: SourceError,
    missing_stream: bool,
}

impl AwsSource {
    /// The events of `q.streams` in `[q.start, q.end)`, oldest first (by timestamp, then event
    /// id). With `q.limit`, at most that many: the oldest ones of the range, since
    /// FilterLogEvents reads from the start of the range (`startFromHead`) and pages stop as
    /// soon as enough have come. No streams, an empty range or a limit of 0 read nothing.
    ///
    /// Streams that do not exist yet (a container that has not started) are read as empty, as
    /// long as one of the streams exists; when none does, the answer is `NotFound`.
    pub(super) async fn filter_log_events(
        &self,
        q: &LogQuery,
    ) -> Result<Vec<LogEvent>, SourceError> {
        let empty_range = q.end.is_some_and(|end| end <= q.start);
        if q.streams.is_empty() || empty_range || q.limit == Some(0) {
            return Ok(Vec::new());
        }
        let client = self.logs_client(q.region.as_deref());
        // One call at a time: the account's 5 calls a second are the limit, not latency.
        let mut read = Read::default();
        for streams in q.streams.chunks(STREAMS_PER_CALL) {
            read.absorb(self.read_streams(&client, q, streams).await?);
        }
        if read.missing.len() == q.streams.len() {
            return Err(none_exist(q, read.missing));
        }
        let mut events = read.events;
        events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        if let Some(limit) = q.limit {
            events.truncate(limit);
        }
        Ok(events)
    }

    /// Reads `streams` (at most [`STREAMS_PER_CALL`]). AWS fails the whole call when any one
    /// named stream does not exist, which is common during a deployment (awslogs creates a
    /// container's stream when the container starts, and new tasks are still pulling images):
    /// such a read is halved until the missing streams are singled out, so the others are still
    /// read. That costs about two calls per missing stream and halving, and only while a stream
    /// is missing.
    fn read_streams<'a>(
        &'a self,
        client: &'a Client,
        q: &'a LogQuery,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Read, SourceError>> {
        Box::pin(async move {
            match self.filter_pages(client, q, streams).await {
                Ok(events) => Ok(Read {
                    events,
                    missing: Vec::new(),
                }),
                Err(Failed {
                    error,
                    missing_stream: true,
                }) if streams.len() == 1 => Ok(Read {
                    events: Vec::new(),
                    missing: vec![error],
                }),
                Err(Failed {
                    missing_stream: true,
                    ..
                }) => {
                    let (first, second) = streams.split_at(streams.len() / 2);
                    let mut read = self.read_streams(client, q, first).await?;
                    read.absorb(self.read_streams(client, q, second).await?);
                    Ok(read)
                }
                Err(Failed { error, .. }) => Err(error),
            }
        })
    }

    /// One `FilterLogEvents` request over `streams`, every page (one limiter token each) until
    /// the query's limit is reached.
    async fn filter_pages(
        &self,
        client: &Client,
        q: &LogQuery,
        streams: &[String],
    ) -> Result<Vec<LogEvent>, Failed> {
        let wanted = q.limit.unwrap_or(usize::MAX);
        let mut pages = client
            .filter_log_events()
            .log_group_name(&q.group)
            .set_log_stream_names(Some(streams.to_vec()))
            .start_time(first_millisecond_from(q.start))
            .set_end_time(q.end.map(last_millisecond_before))
            .start_from_head(true)
            // A page no bigger than needed: a limit of 50 need not carry 10,000 events.
            .limit(wanted.min(EVENTS_PER_PAGE) as i32)
            .into_paginator()
            .send();
        let mut events = Vec::new();
        // The last page is known by its missing token: no token is taken for a call that the
        // paginator would not make (at 5 a second, each counts).
        let mut more = true;
        while more && events.len() < wanted {
            self.limiter.acquire(FILTER).await;
            let Some(page) = pages.next().await else {
                break;
            };
            let page = page.map_err(|e| self.filter_failed(&q.group, streams, &e))?;
            more = page.next_token().is_some();
            events.extend(
                page.events()
                    .iter()
                    .filter_map(|e| filtered_event(&q.group, e)),
            );
        }
        events.truncate(wanted);
        Ok(events)
    }

    fn filter_failed(
        &self,
        group: &str,
        streams: &[String],
        e: &SdkError<FilterLogEventsError>,
    ) -> Failed {
        let missing_stream = e.as_service_error().is_some_and(|s| {
            s.is_resource_not_found_exception()
                && s.message()
                    .is_some_and(|m| m.to_lowercase().contains("log stream"))
        });
        // AWS does not say which stream is missing: name it once it has been singled out.
        let what = match streams {
            [one] if missing_stream => format!("log stream {one} in {group}"),
            _ => format!("log group {group}"),
        };
        Failed {
            error: self.error(FILTER, &what, e),
            missing_stream,
        }
    }

    /// The CloudWatch Logs client for `region` (an `awslogs-region`): the source's own, or one
    /// built from it for another region, with the same credentials, endpoint and call counting.
    fn logs_client(&self, region: Option<&str>) -> Client {
        match region {
            Some(region) if region != self.region => {
                let mut clients = self.regional_logs.lock().unwrap_or_else(|e| e.into_inner());
                clients
                    .entry(region.to_string())
                    .or_insert_with(|| {
                        let config = self
                            .logs
                            .config()
                            .to_builder()
                            .region(Region::new(region.to_string()))
                            .build();
                        Client::from_conf(config)
                    })
                    .clone()
            }
            _ => self.logs.clone(),
        }
    }

    /// Opens a Live Tail session on `streams` (at most 100) of `group`, in the console's
    /// region. Any failure to open it comes back at once, worded "Live Tail not available: …",
    /// so the caller can fall back to polling [`Self::filter_log_events`].
    pub(super) async fn start_live_tail(
        &self,
        group: &str,
        streams: &[String],
    ) -> Result<LogTail, SourceError> {
        let unavailable = |e: SourceError| SourceError {
            message: format!("Live Tail not available: {}", e.message),
            ..e
        };
        if streams.is_empty() || streams.len() > STREAMS_PER_CALL {
            return Err(unavailable(SourceError::new(
                ErrorKind::Service,
                format!(
                    "it follows 1 to {STREAMS_PER_CALL} log streams, not {}",
                    streams.len()
                ),
            )));
        }
        // Live Tail names log groups only by ARN.
        let caller = self.caller().await.map_err(unavailable)?;
        let arn = format!(
            "arn:{}:logs:{}:{}:log-group:{group}",
            caller.partition, self.region, caller.account
        );
        let errors = self.live_tail_errors();
        self.limiter.acquire(LIVE_TAIL).await;
        let opening = self
            .logs
            .start_live_tail()
            .log_group_identifiers(arn)
            .set_log_stream_names(Some(streams.to_vec()))
            .send();
        let out = tokio::time::timeout(OPEN_TIMEOUT, opening)
            .await
            .map_err(|_| {
                self.stats.failed(LIVE_TAIL, false);
                unavailable(SourceError::new(
                    ErrorKind::Network,
                    format!("no answer from {} in time", errors.host),
                ))
            })?
            .map_err(|e| {
                let what = format!("log group {group}");
                unavailable(failed(&self.stats, &errors, LIVE_TAIL, &what, &e))
            })?;
        Ok(tail(Session {
            events: out.response_stream,
            group: group.to_string(),
            errors,
            stats: self.stats.clone(),
            received: 0,
        }))
    }

    /// Live Tail has its own host, `stream-` before the usual one (the operation's endpoint
    /// prefix, applied to a custom endpoint too): errors name it, since it may be unreachable
    /// (a proxy, an emulator's address) when the rest of CloudWatch Logs is not.
    fn live_tail_errors(&self) -> ErrorContext {
        let host = match &self.settings.endpoint_url {
            Some(_) => format!("stream-{}", self.errors.host),
            None => format!("stream-logs.{}.amazonaws.com", self.region),
        };
        ErrorContext {
            host,
            ..self.errors.clone()
        }
    }
}

/// An open Live Tail session, with what is needed to word its errors once the source is gone.
struct Session {
    events: EventReceiver<StartLiveTailResponseStream, StartLiveTailResponseStreamError>,
    group: String,
    errors: ErrorContext,
    stats: CallStats,
    /// Events received so far: makes synthetic ids unique within the session.
    received: u64,
}

impl Session {
    /// The next non-empty batch; `None` once the server has ended the session. An error ends
    /// the session too.
    async fn next_batch(&mut self) -> Option<Result<Vec<LogEvent>, SourceError>> {
        loop {
            match self.events.recv().await {
                Ok(Some(StartLiveTailResponseStream::SessionUpdate(update))) => {
                    let batch = self.batch(update.session_results());
                    // AWS sends an update about every second, most of them empty when the
                    // streams are quiet: those carry nothing for the pane.
                    if !batch.is_empty() {
                        return Some(Ok(batch));
                    }
                }
                // SessionStart echoes the request; unknown kinds are for newer SDKs.
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(e) => return Some(Err(self.failed(&e))),
            }
        }
    }

    /// Live Tail events have no id: each gets one from its time, stream and arrival order.
    /// Oldest first within the batch (an update may interleave streams).
    fn batch(&mut self, results: &[LiveTailSessionLogEvent]) -> Vec<LogEvent> {
        let mut batch: Vec<LogEvent> = results
            .iter()
            .filter_map(|e| {
                let millis = e.timestamp()?;
                let at = Time::from_timestamp_millis(millis)?;
                let stream = e.log_stream_name().unwrap_or_default();
                self.received += 1;
                Some(LogEvent {
                    id: format!("lt-{millis}-{stream}-{}", self.received),
                    at,
                    group: self.group.clone(),
                    stream: crate::sanitize::clean(stream).into_owned(),
                    message: bounded_message(e.message().unwrap_or_default().to_string()),
                })
            })
            .collect();
        batch.sort_by_key(|e| e.at);
        batch
    }

    /// Why the session ended. Its two modelled errors carry their kind only in the event
    /// stream's `:exception-type` header, not in the error code `explain` reads: named here.
    fn failed<R: std::fmt::Debug + 'static>(
        &self,
        e: &SdkError<StartLiveTailResponseStreamError, R>,
    ) -> SourceError {
        let err = match e.as_service_error() {
            Some(StartLiveTailResponseStreamError::SessionTimeoutException(_)) => {
                self.stats.failed(LIVE_TAIL, false);
                SourceError::new(
                    ErrorKind::Service,
                    "the session reached Live Tail's 3-hour limit",
                )
            }
            Some(StartLiveTailResponseStreamError::SessionStreamingException(x)) => {
                self.stats.failed(LIVE_TAIL, false);
                let why = crate::sanitize::clean(x.message().unwrap_or("no reason given"));
                SourceError::new(
                    ErrorKind::Service,
                    format!("CloudWatch Logs stopped the session ({why})"),
                )
            }
            _ => {
                let what = format!("log group {}", self.group);
                failed(&self.stats, &self.errors, LIVE_TAIL, &what, e)
            }
        };
        SourceError {
            message: format!("Live Tail ended: {}", err.message),
            ..err
        }
    }
}

/// The session as a stream of batches that ends after the server ends it or after an error.
fn tail(session: Session) -> LogTail {
    Box::pin(futures::stream::unfold(
        Some(session),
        |session| async move {
            let mut session = session?;
            match session.next_batch().await? {
                Ok(batch) => Some((Ok(batch), Some(session))),
                Err(e) => Some((Err(e), None)),
            }
        },
    ))
}

fn filtered_event(group: &str, e: &FilteredLogEvent) -> Option<LogEvent> {
    Some(LogEvent {
        id: e.event_id().unwrap_or_default().to_string(),
        at: Time::from_timestamp_millis(e.timestamp()?)?,
        group: group.to_string(),
        stream: crate::sanitize::clean(e.log_stream_name().unwrap_or_default()).into_owned(),
        // Raw (the pane sanitizes what it draws, keeping colours), but bounded.
        message: bounded_message(e.message().unwrap_or_default().to_string()),
    })
}

/// Every stream of the query is missing: say so, naming the stream when there is one.
fn none_exist(q: &LogQuery, mut missing: Vec<SourceError>) -> SourceError {
    match missing.len() {
        1 => missing.remove(0),
        n => SourceError::not_found(format!(
            "none of the {n} log streams in {} exists yet: the containers have not started logging",
            q.group
        )),
    }
}

/// FilterLogEvents' `startTime` (inclusive, whole milliseconds) for an inclusive start that may
/// fall inside a millisecond: events of that millisecond are before it.
fn first_millisecond_from(start: Time) -> i64 {
    let millis = start.timestamp_millis();
    if start.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        millis
    } else {
        millis + 1
    }
}

/// FilterLogEvents' `endTime` (inclusive) for an exclusive end: the millisecond before it, or
/// the one it falls inside.
fn last_millisecond_before(end: Time) -> i64 {
    let millis = end.timestamp_millis();
    if end.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        millis - 1
    } else {
        millis
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(millis: i64) -> Time {
        Time::from_timestamp_millis(millis).unwrap()
    }

    #[test]
    fn the_range_is_half_open_in_whole_milliseconds() {
        assert_eq!(first_millisecond_from(at(1_000)), 1_000);
        assert_eq!(last_millisecond_before(at(2_000)), 1_999);
        let inside = TimeDelta::microseconds(500);
        assert_eq!(first_millisecond_from(at(1_000) + inside), 1_001);
        assert_eq!(last_millisecond_before(at(2_000) + inside), 2_000);
    }

    #[test]
    fn no_stream_found_names_the_stream_or_counts_them() {
        let q = LogQuery {
            group: "/ecs/cart".into(),
            region: None,
            streams: vec!["a".into(), "b".into()],
            start: at(0),
            end: None,
            limit: None,
        };
        let one = SourceError::not_found("log stream a in /ecs/cart does not exist yet");
        assert_eq!(none_exist(&q, vec![one.clone()]), one);
        let both = none_exist(&q, vec![one.clone(), one]);
        assert_eq!(both.kind, ErrorKind::NotFound);
        assert_eq!(
            both.message,
            "none of the 2 log streams in /ecs/cart exists yet: the containers have not started logging"
        );
    }
}
