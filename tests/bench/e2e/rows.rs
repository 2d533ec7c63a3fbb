//! The report: an `Outcome`'s rows of the table, and the added-latency row of the Svix scenario.

use super::outcome::Outcome;
use super::{ADDED_GOAL_MS, CPU_GOAL, EVENTS, SOURCE, SVIX_P99_MS, SVIX_SCENARIO, failure};
use crate::report::{Row, percentile};

impl Outcome {
    pub(super) fn rows(&self) -> Vec<Row> {
        let label = self.scenario.label();
        if let Some(error) = &self.error {
            return vec![failure(&format!("({label})"), error)];
        }
        let void = self.void();
        let value = |text: String| if void.is_some() { format!("VOID ({text})") } else { text };
        let bound = if self.emulator_bound() { "; emulator-bound (see AWS wait)" } else { "" };
        let mut latencies = self.latencies.clone();
        let mut ingest = self.ingest.clone();
        let ms = |samples: &mut Vec<f64>, p: f64| {
            if samples.is_empty() { "n/a".to_string() } else { format!("{:.1}", percentile(samples, p)) }
        };
        let p99 = percentile(&mut latencies, 99.0);
        let mut rows = Vec::new();

        let svix = self.scenario.is(SVIX_SCENARIO);
        let clean = void.is_none() && self.missing == 0 && self.delivered() > 0;
        rows.push(Row::new(
            format!("e2e latency p50 / p95 / p99 ({label})"),
            value(format!(
                "{} / {} / {} ms",
                ms(&mut latencies, 50.0),
                ms(&mut latencies, 95.0),
                ms(&mut latencies, 99.0)
            )),
            if svix { format!("p99 <= {SVIX_P99_MS:.0} ms (Svix)") } else { "-".into() },
            svix.then_some(clean && p99 <= SVIX_P99_MS),
            format!(
                "POST sent -> first arrival of its (message id, path) at a receiver on 127.0.0.1, over {} deliveries; \
                 runner in-process (serve_http + drive_deliver with {} pollers, batches of up to {} gathered for up \
                 to 1 s, at most {} batches at once, one Deliverer) on fauxqs and ministack{}{bound}{}",
                self.delivered(),
                SOURCE.pollers,
                SOURCE.batch_size,
                SOURCE.max_concurrency,
                if self.missing > 0 { format!("; the {} missing are not in it", self.missing) } else { String::new() },
                void.as_ref().map(|text| format!("; {text}")).unwrap_or_default(),
            ),
        ));

        let rejected = if self.rejected.is_empty() {
            String::new()
        } else {
            let reasons: Vec<String> =
                self.rejected.iter().map(|(reason, count)| format!("{count} {reason}")).collect();
            format!(", not accepted: {}", reasons.join(", "))
        };
        rows.push(Row::new(
            format!("ingest API p50 / p99 ({label})"),
            format!("{} / {} ms", ms(&mut ingest, 50.0), ms(&mut ingest, 99.0)),
            "-",
            None,
            format!(
                "POST {EVENTS} to its 202 (body read), each POST spawned on a fixed {}/s tick (tokio interval, \
                 burst on missed ticks), posted over {:.2} s; {} accepted{rejected}",
                self.scenario.rate,
                self.posting.as_secs_f64(),
                self.published,
            ),
        ));

        let span = self.span.as_secs_f64();
        let rate = if span > 0.0 { format!("{:.0} /s", self.delivered() as f64 / span) } else { "n/a".into() };
        let unanswered = if self.unanswered > 0 {
            format!("; {} more deliveries of POSTs without an answer by the deadline (not counted)", self.unanswered)
        } else {
            String::new()
        };
        rows.push(Row::new(
            format!("sustained deliveries/s, missing ({label})"),
            value(format!("{rate}, missing {}", self.missing)),
            "-",
            None,
            format!(
                "delivered / (first POST -> last delivery, {span:.1} s); offered {}/s; {} of {} (published x M) \
                 delivered, {} missing after waiting at most {} s past publishing; {} duplicate requests{unanswered}",
                self.scenario.rate as usize * self.scenario.fan_out,
                self.delivered(),
                self.expected,
                self.missing,
                self.scenario.drain.as_secs(),
                self.duplicates
            ),
        ));

        let per_thousand = self.cpu_per_thousand();
        let partial = if self.missing > 0 || !self.rejected.is_empty() {
            "; the work for events not delivered is in the CPU but not in the deliveries, so this overstates"
        } else {
            ""
        };
        rows.push(Row::new(
            format!("Hookline CPU per 1,000 deliveries ({label})"),
            per_thousand.map_or("n/a".into(), |cpu| format!("{cpu:.2} s")),
            format!("<= {CPU_GOAL:.1} s"),
            per_thousand.map(|cpu| cpu <= CPU_GOAL),
            format!(
                "utime+stime of /proc/self/stat at an assumed 100 Hz (CLK_TCK, not read), first POST -> end of wait \
                 ({:.1} s: {} CPU s, {} of it system time in the whole process), minus the thread of the publisher \
                 and receiver (/proc/self/task/<tid>/stat): ingest, api, deliver, SDK clients, runner; the emulators are \
                 child processes, not counted; {}{partial}",
                self.window.as_secs_f64(),
                self.cpu.map_or("?".into(), |cpu| format!("{cpu:.2}")),
                self.system.map_or("?".into(), |cpu| format!("{cpu:.2}")),
                match self.opens {
                    Some(opens) if self.requests > 0 => format!(
                        "{:.2} TCP connections opened per AWS request (netns-wide Tcp ActiveOpens), the receiver's \
                         and the publisher's included",
                        opens as f64 / self.requests as f64
                    ),
                    _ => "TCP connections opened unknown".into(),
                },
            ),
        ));

        let total = self.waiting.as_secs_f64();
        let top: Vec<String> = self
            .operations
            .iter()
            .take(3)
            .map(|(name, waiting, requests)| {
                format!("{name} {:.0}% ({requests} calls)", waiting.as_secs_f64() * 100.0 / total.max(f64::EPSILON))
            })
            .collect();
        let emulators = self.emulator_loads().map_or("emulator CPU unknown".into(), |(sqs, dynamodb)| {
            format!(
                "emulators (child processes) busy: fauxqs {:.0}%, ministack {:.0}% of one core",
                sqs * 100.0,
                dynamodb * 100.0
            )
        });
        let bound = if self.emulator_bound() {
            "; EMULATOR-BOUND (AWS waiting dominates): each emulator runs on one core, so these latencies are \
             mostly theirs"
        } else {
            ""
        };
        rows.push(Row::new(
            format!("AWS wait share of e2e / per delivery ({label})"),
            format!(
                "{} / {} ms",
                self.aws_share().map_or("n/a".into(), |share| format!("{:.0}%", share * 100.0)),
                self.per_delivery(total * 1e3).map_or("n/a".into(), |wait| format!("{wait:.1}"))
            ),
            "-",
            None,
            format!(
                "meter.waiting() {total:.1} s, summed over concurrent calls (so the share can pass 100%), / the sum \
                 of e2e latencies, and / deliveries (ingest and fan-out calls included); without SQS.ReceiveMessage \
                 (long polls wait on an empty queue too) the share is {}; {} per call; {}; {emulators}{bound}",
                self.aws_share_without_polls().map_or("n/a".into(), |share| format!("{:.0}%", share * 100.0)),
                if self.requests > 0 { format!("{:.1} ms", total * 1e3 / self.requests as f64) } else { "n/a".into() },
                top.join(", "),
            ),
        ));

        rows.push(Row::new(
            format!("AWS requests per delivered webhook ({label})"),
            self.per_delivery(self.requests as f64).map_or("n/a".into(), |requests| format!("{requests:.2}")),
            "-",
            None,
            format!(
                "meter.requests() {} / {} deliveries: ingest, fan-out, deliver and SQS polling, SDK retries included{}",
                self.requests,
                self.delivered(),
                if self.missing > 0 || !self.rejected.is_empty() { "; overstated by undelivered work" } else { "" }
            ),
        ));
        rows
    }
}

/// Hookline's added latency at the Svix scenario.
pub(super) fn added_latency(outcomes: &[Outcome]) -> Row {
    let figure = format!("Hookline added latency p99 ({}/s, fan-out {})", SVIX_SCENARIO.0, SVIX_SCENARIO.1);
    let goal = format!("< {ADDED_GOAL_MS:.0} ms");
    let Some(outcome) = outcomes.iter().find(|outcome| outcome.scenario.is(SVIX_SCENARIO) && outcome.error.is_none())
    else {
        return Row::new(figure, "n/a", goal, None, "the scenario did not run");
    };
    let mut latencies = outcome.latencies.clone();
    let p99 = percentile(&mut latencies, 99.0);
    Row::new(
        figure,
        "not separable",
        goal,
        None,
        format!(
            "the meter sums AWS wait per operation, not per delivery, so there is no p99 of per-delivery AWS wait \
             to subtract from the e2e p99 ({}); for scale: mean AWS wait per delivery {} (summed over concurrent \
             calls), Hookline CPU per delivery {} (mean){}",
            if p99.is_nan() { "n/a".into() } else { format!("{p99:.1} ms") },
            outcome.per_delivery(outcome.waiting.as_secs_f64() * 1e3).map_or("n/a".into(), |ms| format!("{ms:.1} ms")),
            outcome.cpu_per_thousand().map_or("n/a".into(), |cpu| format!("{cpu:.2} ms")),
            if outcome.emulator_bound() {
                "; the scenario is emulator-bound, so these say little about Hookline"
            } else {
                ""
            },
        ),
    )
}
