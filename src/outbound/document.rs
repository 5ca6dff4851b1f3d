//! The machine-readable notification: one versioned JSON document for SQS, HTTPS and
//! Lambda subscribers (SNS's `default` rendering).

use serde::Serialize;

use crate::inbound::callback::Callback;
use crate::meaning::stream_state::DropFacts;
use crate::outbound::telling::Telling;
use crate::outbound::timefmt::rfc3339;

/// Raised when a field is renamed, removed or changes meaning; additions keep it.
/// 2: `event_id` gained the content digest (`<sequence>-<start|stop>-<16 hex digits>`).
pub const DOCUMENT_VERSION: u32 = 2;

#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub version: u32,
    pub event: &'static str,
    pub event_id: &'a str,
    pub reason: Option<&'static str>,
    pub reason_description: Option<&'static str>,
    pub stream_id: &'a str,
    pub channel_id: &'a str,
    pub app: &'a str,
    pub appname: &'a str,
    pub appid: u64,
    pub sequence: &'a str,
    pub event_time: String,
    pub event_time_unix: u64,
    pub push_duration_ms: Option<u64>,
    pub errcode: i64,
    pub errmsg: &'a str,
    pub region: &'static str,
    pub set_id: Option<u32>,
    pub node: &'a str,
    pub user_ip: &'a str,
    pub idc_id: Option<i64>,
    pub width: u32,
    pub height: u32,
    pub stream_param: &'a str,
    pub held_for_secs: Option<u64>,
    pub gap_secs: Option<u64>,
    pub downtime_secs: Option<u64>,
    pub shown_by: Option<&'static str>,
    pub drop: Option<DropDocument<'a>>,
}

/// The drop a `stream.resumed` or `stream.recovered` is about.
#[derive(Debug, Serialize)]
pub struct DropDocument<'a> {
    pub event_id: &'a str,
    pub sequence: &'a str,
    pub event_time: String,
    pub event_time_unix: u64,
    pub reason: &'static str,
    pub reason_description: &'static str,
    pub errcode: i64,
}

impl<'a> DropDocument<'a> {
    fn new(drop: &'a DropFacts) -> Self {
        DropDocument {
            event_id: &drop.id,
            sequence: &drop.sequence,
            event_time: rfc3339(drop.at),
            event_time_unix: drop.at,
            reason: drop.reason.as_str(),
            reason_description: drop.reason.description(),
            errcode: drop.errcode,
        }
    }
}

impl<'a> Document<'a> {
    pub fn new(cb: &'a Callback, telling: &'a Telling) -> Self {
        Document {
            version: DOCUMENT_VERSION,
            event: telling.event.as_str(),
            event_id: &telling.event_id,
            reason: telling.reason.map(|r| r.as_str()),
            reason_description: telling.reason.map(|r| r.description()),
            stream_id: &cb.stream_id,
            channel_id: &cb.channel_id,
            app: &cb.app,
            appname: &cb.appname,
            appid: cb.appid,
            sequence: &cb.sequence,
            event_time: rfc3339(cb.event_time),
            event_time_unix: cb.event_time,
            push_duration_ms: cb.push_duration_ms,
            errcode: cb.errcode,
            errmsg: &cb.errmsg,
            region: cb.region().as_str(),
            set_id: cb.set_id,
            node: &cb.node,
            user_ip: &cb.user_ip,
            idc_id: cb.idc_id,
            width: cb.width,
            height: cb.height,
            stream_param: &cb.stream_param,
            held_for_secs: telling.held_for_secs,
            gap_secs: telling.gap_secs,
            downtime_secs: telling.downtime_secs,
            shown_by: telling.shown_by,
            drop: telling.drop.as_ref().map(DropDocument::new),
        }
    }
}
