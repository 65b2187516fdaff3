//! The generic engine: ordering and commit state machines, the in-flight overlay, statistics,
//! and the thin threaded shell that runs any [`shell::Stages`] implementation.

pub mod gate;
pub mod overlay;
pub mod reorder;
pub mod shell;
pub mod stats;

pub use gate::{Body, CommitGate, Envelope, Epoch, Outcome, Schedule, Ticket, Verdict};
pub use overlay::{Lookup, Overlay};
pub use reorder::ReorderBuffer;
pub use shell::{Feedback, FeedbackOf, Pipeline, PipelineProbe, ShellConfig, Stages};
pub use stats::{BatchCounters, Histogram, HistogramSnapshot, PipelineStats, StageStats};
