//! The upload target (Core's `-maxuploadtarget`, `CConnman::OutboundTargetReached` in net.cpp
//! and its use in `ProcessGetBlockData`, net_processing.cpp): bytes sent are counted in 24-hour
//! cycles; once the cycle's budget, less a reserve to relay one block per 10 minutes until the
//! cycle ends, is spent, blocks older than a week (relative to the best header) are no longer
//! served, except to peers with the download permission. Recent blocks are always served, so
//! the node keeps relaying the tip.
//!
//! Sans-IO: time (seconds since the epoch) and byte counts are inputs; the node feeds it the
//! network's cumulative bytes-sent counter and asks before serving each `getdata`.

/// Length of one accounting cycle (Core's `MAX_UPLOAD_TIMEFRAME`).
pub const UPLOAD_TIMEFRAME_SECS: u64 = 24 * 60 * 60;
/// A block this much older than the best header is historical (Core's `HISTORICAL_BLOCK_AGE`).
pub const HISTORICAL_BLOCK_AGE_SECS: i64 = 7 * 24 * 60 * 60;
/// The reserve kept per 10 minutes left in the cycle: one block at most
/// (Core's `MAX_BLOCK_SERIALIZED_SIZE`).
pub const MAX_BLOCK_SERIALIZED_SIZE: u64 = 4_000_000;

/// Bytes sent in the current cycle against the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget {
    /// Bytes per cycle; 0: no target.
    limit: u64,
    /// When the current cycle started (0: none yet).
    cycle_start: u64,
    /// Bytes sent since `cycle_start`.
    sent_in_cycle: u64,
    /// The cumulative counter last seen by [`UploadTarget::observe_total`].
    total_seen: u64,
}

impl UploadTarget {
    /// A target of `limit` bytes per 24 hours (0: none).
    #[must_use]
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            cycle_start: 0,
            sent_in_cycle: 0,
            total_seen: 0,
        }
    }

    /// The target in bytes per cycle (0: none).
    #[must_use]
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes sent in the current cycle.
    #[must_use]
    pub fn sent_in_cycle(&self) -> u64 {
        self.sent_in_cycle
    }

    /// Counts `bytes` sent at `now`; a cycle that has ended starts a new one first
    /// (`CConnman::RecordBytesSent`).
    pub fn record(&mut self, bytes: u64, now: u64) {
        if self.cycle_start.saturating_add(UPLOAD_TIMEFRAME_SECS) < now {
            self.cycle_start = now;
            self.sent_in_cycle = 0;
        }
        self.sent_in_cycle = self.sent_in_cycle.saturating_add(bytes);
    }

    /// Feeds a cumulative bytes-sent counter (the network's): what it grew by since the last
    /// call is recorded at `now`. A counter that went backwards (a new network) counts from 0.
    pub fn observe_total(&mut self, total: u64, now: u64) {
        let grew = if total >= self.total_seen {
            total - self.total_seen
        } else {
            total
        };
        self.total_seen = total;
        self.record(grew, now);
    }

    /// Seconds until the cycle ends (`GetMaxOutboundTimeLeftInCycle`): 0 without a target or
    /// after the end, a whole cycle before anything was sent.
    #[must_use]
    pub fn time_left_in_cycle(&self, now: u64) -> u64 {
        if self.limit == 0 {
            return 0;
        }
        if self.cycle_start == 0 {
            return UPLOAD_TIMEFRAME_SECS;
        }
        (self.cycle_start + UPLOAD_TIMEFRAME_SECS).saturating_sub(now)
    }

    /// `OutboundTargetReached`: with `historical`, reached once what is left of the budget is
    /// no more than the reserve for relaying new blocks until the cycle ends.
    #[must_use]
    pub fn reached(&self, historical: bool, now: u64) -> bool {
        if self.limit == 0 {
            return false;
        }
        if historical {
            let reserve =
                (self.time_left_in_cycle(now) / 600).saturating_mul(MAX_BLOCK_SERIALIZED_SIZE);
            reserve >= self.limit || self.sent_in_cycle >= self.limit - reserve
        } else {
            self.sent_in_cycle >= self.limit
        }
    }

    /// Bytes left in the cycle (`GetOutboundTargetBytesLeft`; 0 without a target).
    #[must_use]
    pub fn bytes_left(&self) -> u64 {
        self.limit.saturating_sub(self.sent_in_cycle)
    }

    /// Whether a block with timestamp `block_time` may be served at `now` when the best header
    /// has `best_header_time` (`ProcessGetBlockData`): refused only when it is historical, the
    /// historical limit is reached and the peer lacks the download permission (`exempt`).
    #[must_use]
    pub fn may_serve_block(
        &self,
        best_header_time: i64,
        block_time: i64,
        exempt: bool,
        now: u64,
    ) -> bool {
        exempt
            || best_header_time.saturating_sub(block_time) <= HISTORICAL_BLOCK_AGE_SECS
            || !self.reached(true, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;
    const DAY: u64 = UPLOAD_TIMEFRAME_SECS;
    const MB: u64 = 1 << 20;
    const WEEK: i64 = HISTORICAL_BLOCK_AGE_SECS;

    #[test]
    fn no_target_never_limits() {
        let mut t = UploadTarget::new(0);
        t.record(u64::MAX / 2, T0);
        assert!(!t.reached(false, T0) && !t.reached(true, T0));
        assert_eq!(t.time_left_in_cycle(T0), 0);
        assert_eq!(t.bytes_left(), 0);
        assert!(t.may_serve_block(1_800_000_000, 0, false, T0));
    }

    /// Core's arithmetic: a 1000 MiB target keeps a reserve of one 4 MB block per 10 minutes
    /// left in the cycle, so historical serving stops long before the plain target.
    #[test]
    fn historical_limit_keeps_a_reserve_for_new_blocks() {
        let limit = 1000 * MB;
        let mut t = UploadTarget::new(limit);
        // Before anything was sent a whole cycle is left: 144 blocks' reserve (576 MB).
        assert_eq!(t.time_left_in_cycle(T0), DAY);
        assert!(!t.reached(true, T0), "576 MB reserve < 1000 MiB target");
        t.record(400 * MB, T0);
        assert_eq!(t.time_left_in_cycle(T0 + 600), DAY - 600);
        // 143 blocks' reserve left at T0+600: 1048576000 - 572000000 = 476576000 may be spent.
        assert!(!t.reached(true, T0 + 600), "400 MiB < 454.5 MiB");
        t.record(60 * MB, T0 + 600);
        assert!(t.reached(true, T0 + 600), "460 MiB > 454.5 MiB");
        assert!(
            !t.reached(false, T0 + 600),
            "the plain target is not reached"
        );
        // Later in the cycle the reserve shrinks: at 12 h left, 72 blocks (288 MB).
        assert!(
            !t.reached(true, T0 + DAY / 2),
            "460 MiB < 1000 MiB - 288 MB"
        );
        t.record(540 * MB, T0 + DAY / 2);
        assert!(t.reached(false, T0 + DAY / 2));
        assert_eq!(t.bytes_left(), 0);
        // The cycle ends: time left is 0, and the first bytes after it start a new cycle.
        assert_eq!(t.time_left_in_cycle(T0 + DAY + 1), 0);
        assert!(
            t.reached(true, T0 + DAY + 1),
            "still counted until bytes are recorded"
        );
        t.record(1, T0 + DAY + 1);
        assert_eq!(t.sent_in_cycle(), 1);
        assert_eq!(t.time_left_in_cycle(T0 + DAY + 1), DAY);
        assert!(!t.reached(true, T0 + DAY + 1));
    }

    /// A target below one day's reserve (144 blocks) refuses historical blocks from the start,
    /// as in Core.
    #[test]
    fn small_target_refuses_history_at_once() {
        let t = UploadTarget::new(100 * MB);
        assert!(t.reached(true, T0));
        assert!(!t.reached(false, T0));
    }

    #[test]
    fn recent_blocks_and_exempt_peers_are_always_served() {
        let t = UploadTarget::new(MB);
        let best = 1_800_000_000_i64;
        assert!(t.reached(true, T0));
        assert!(
            t.may_serve_block(best, best - WEEK, false, T0),
            "exactly a week: recent"
        );
        assert!(
            !t.may_serve_block(best, best - WEEK - 1, false, T0),
            "older: refused"
        );
        assert!(
            t.may_serve_block(best, best - WEEK - 1, true, T0),
            "download permission"
        );
        assert!(
            t.may_serve_block(best, best + 7200, false, T0),
            "newer than the best header"
        );
        let open = UploadTarget::new(10_000 * MB);
        assert!(open.may_serve_block(best, 0, false, T0), "under the target");
    }

    #[test]
    fn cumulative_counter_is_differenced() {
        let mut t = UploadTarget::new(1000 * MB);
        t.observe_total(5 * MB, T0);
        t.observe_total(8 * MB, T0 + 10);
        assert_eq!(t.sent_in_cycle(), 8 * MB);
        t.observe_total(8 * MB, T0 + 20);
        assert_eq!(t.sent_in_cycle(), 8 * MB, "no growth, nothing recorded");
        // A new network's counter restarts at 0: what it shows is new.
        t.observe_total(MB, T0 + 30);
        assert_eq!(t.sent_in_cycle(), 9 * MB);
        // Bytes seen after the cycle ends open a new one.
        t.observe_total(3 * MB, T0 + DAY + 1);
        assert_eq!(t.sent_in_cycle(), 2 * MB);
    }
}
