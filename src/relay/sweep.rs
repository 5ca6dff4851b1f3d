//! The sweep, every few minutes (an EventBridge schedule): the holds whose park failed when
//! their stop was recorded, and that Tencent's retries did not park either (the hold
//! queue refused writes for all of them), are parked now, as their sealed messages were
//! kept in their streams. Due already, they come back at once and their drops are
//! announced, late; a stream that came back meanwhile finds its drop resolved. So a drop
//! is announced even if its stream never comes back.

use crate::ports::hold_queue::HoldQueue;
use crate::ports::stream_log::StreamLog;
use crate::relay::report::Report;
use crate::relay::windowed::Windowed;

impl<L: StreamLog, Q: HoldQueue> Windowed<L, Q> {
    /// Parks the holds left unparked for `sweep_after_secs` at `now`; what could not be
    /// parked is left to the next sweep.
    pub async fn sweep(&self, now: u64, report: &mut Report) -> Result<(), String> {
        let streams = self
            .log
            .unparked(now.saturating_sub(self.sweep_after_secs))
            .await
            .map_err(|e| e.to_string())?;
        for stream in streams {
            let mut parked = Vec::new();
            for (drop_id, message) in &stream.holds {
                match self.queue.park(message, 0).await {
                    Ok(()) => parked.push(drop_id.clone()),
                    Err(e) => {
                        report.sweep_failures += 1;
                        tracing::warn!(error = %e, drop_id, "hold not parked by the sweep; the next one tries again");
                    }
                }
            }
            report.swept += parked.len() as u32;
            if let Err(e) = self.log.swept(&stream, &parked).await {
                // parked, but still marked: the next sweep parks a copy, which is announced
                // once, as any copy
                tracing::warn!(error = %e, "swept holds not cleared");
            }
        }
        Ok(())
    }
}
