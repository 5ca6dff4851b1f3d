//! Without state: every verified callback is told as it is classified.

use crate::inbound::callback::Callback;
use crate::inbound::signature::{Authentic, Verifier};
use crate::meaning::stream_state::Notice;
use crate::ports::publish::Publisher;
use crate::rejection::Rejection;
use crate::relay::report::Report;
use crate::relay::{Mode, Teller};

#[derive(Debug, Clone, Copy, Default)]
pub struct Stateless;

impl Mode for Stateless {
    async fn on_callback<P: Publisher>(
        &self,
        teller: &Teller<'_, P>,
        _verifier: &Verifier,
        callback: &Authentic<Callback>,
        _now: u64,
        report: &mut Report,
    ) -> Result<(), Rejection> {
        teller
            .tell(
                callback,
                &Notice::plain(callback.get().classification().event),
                report,
            )
            .await
            .map(|_| ())
    }
}
