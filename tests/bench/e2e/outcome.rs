//! What one scenario measured (`Outcome`) and the figures derived from it: whether the run
//! balances, the emulators' load, the AWS wait share, CPU per delivery.

use super::EMULATOR_SATURATED;
use super::scenario::Scenario;
use std::collections::BTreeMap;
use std::time::Duration;

/// What one scenario measured.
#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) scenario: Scenario,
    pub(super) error: Option<String>,
    /// Events accepted (202 with an id).
    pub(super) published: usize,
    /// Events not accepted, by reason.
    pub(super) rejected: BTreeMap<String, usize>,
    /// How long posting took (first to last POST sent).
    pub(super) posting: Duration,
    /// published * fan-out.
    pub(super) expected: usize,
    /// Expected (message id, path) pairs never seen at the receiver.
    pub(super) missing: usize,
    /// Pairs seen that belong to no published event: a wrong id, path or payload.
    pub(super) unknown: usize,
    /// Pairs seen of an event whose POST was refused (an HTTP error): it should not exist.
    pub(super) refused: usize,
    /// Pairs seen of an event whose POST got no answer before the deadline.
    pub(super) unanswered: usize,
    /// Requests beyond the first for a pair (at-least-once deliveries).
    pub(super) duplicates: usize,
    /// End-to-end latencies (ms) of the delivered pairs, POST sent to first arrival.
    pub(super) latencies: Vec<f64>,
    /// Ingest API latencies (ms), POST to 202.
    pub(super) ingest: Vec<f64>,
    /// First POST to last delivery.
    pub(super) span: Duration,
    /// Hookline's CPU seconds (the process minus the load thread).
    pub(super) cpu: Option<f64>,
    /// The process's system CPU seconds (in `cpu`, less the load thread's share).
    pub(super) system: Option<f64>,
    /// fauxqs's and ministack's CPU seconds in the same window.
    pub(super) sqs_cpu: Option<f64>,
    pub(super) dynamodb_cpu: Option<f64>,
    /// TCP connections opened in the network namespace in the window.
    pub(super) opens: Option<u64>,
    /// First POST to the end of the wait.
    pub(super) window: Duration,
    /// AWS requests, and the time waiting on them (summed over concurrent calls).
    pub(super) requests: u64,
    pub(super) waiting: Duration,
    /// By operation, longest wait first: (service.operation, waiting, requests).
    pub(super) operations: Vec<(String, Duration, u64)>,
}

impl Outcome {
    pub(super) fn failed(scenario: Scenario, error: String) -> Self {
        Self { error: Some(error), ..Self::empty(scenario) }
    }

    pub(super) fn empty(scenario: Scenario) -> Self {
        Self {
            scenario,
            error: None,
            published: 0,
            rejected: BTreeMap::new(),
            posting: Duration::ZERO,
            expected: 0,
            missing: 0,
            unknown: 0,
            refused: 0,
            unanswered: 0,
            duplicates: 0,
            latencies: Vec::new(),
            ingest: Vec::new(),
            span: Duration::ZERO,
            cpu: None,
            system: None,
            sqs_cpu: None,
            dynamodb_cpu: None,
            opens: None,
            window: Duration::ZERO,
            requests: 0,
            waiting: Duration::ZERO,
            operations: Vec::new(),
        }
    }

    pub(super) fn delivered(&self) -> usize {
        self.latencies.len()
    }

    /// Why the run does not balance (published * M = delivered + missing, and nothing else
    /// arrived than what was published or left unanswered), if it does not.
    pub(super) fn void(&self) -> Option<String> {
        (self.expected != self.delivered() + self.missing || self.unknown > 0 || self.refused > 0).then(|| {
            format!(
                "VOID: published*M {} vs delivered {} + missing {}; {} unknown (message id, path) pairs at the \
                 receiver, {} of refused POSTs",
                self.expected,
                self.delivered(),
                self.missing,
                self.unknown,
                self.refused
            )
        })
    }

    /// Each emulator's CPU over the window, in cores: (SQS, DynamoDB).
    pub(super) fn emulator_loads(&self) -> Option<(f64, f64)> {
        let window = self.window.as_secs_f64();
        (window > 0.0).then_some(())?;
        Some((self.sqs_cpu? / window, self.dynamodb_cpu? / window))
    }

    /// AWS wait (summed over concurrent calls) over the summed end-to-end latencies.
    pub(super) fn aws_share(&self) -> Option<f64> {
        self.share_of_e2e(self.waiting)
    }

    /// The same without `ReceiveMessage`, whose long polls also wait while the queue is empty.
    pub(super) fn aws_share_without_polls(&self) -> Option<f64> {
        let polls: Duration = self
            .operations
            .iter()
            .filter(|(name, _, _)| name.ends_with(".ReceiveMessage"))
            .map(|(_, waiting, _)| *waiting)
            .sum();
        self.share_of_e2e(self.waiting.saturating_sub(polls))
    }

    fn share_of_e2e(&self, waiting: Duration) -> Option<f64> {
        let total: f64 = self.latencies.iter().sum::<f64>() / 1e3;
        (total > 0.0).then(|| waiting.as_secs_f64() / total)
    }

    pub(super) fn emulator_bound(&self) -> bool {
        self.emulator_loads().is_some_and(|(sqs, dynamodb)| sqs.max(dynamodb) >= EMULATOR_SATURATED)
            || self.aws_share_without_polls().is_some_and(|share| share >= 0.5)
    }

    pub(super) fn per_delivery(&self, total: f64) -> Option<f64> {
        (self.delivered() > 0).then(|| total / self.delivered() as f64)
    }

    pub(super) fn cpu_per_thousand(&self) -> Option<f64> {
        self.cpu.and_then(|cpu| self.per_delivery(cpu * 1000.0))
    }
}
