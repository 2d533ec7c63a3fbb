//! The benchmark table: one row per figure, with how it was measured and its goal.

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured, e.g. `init time p50 (api)`.
    pub figure: String,
    /// The value with its unit, e.g. `12.3 ms`.
    pub value: String,
    /// The goal, e.g. `<= 20 ms`, or `-`.
    pub goal: String,
    /// Whether the goal is met (`None` when there is no goal).
    pub met: Option<bool>,
    /// How it was measured.
    pub how: String,
}

impl Row {
    /// A row.
    pub fn new(
        figure: impl Into<String>,
        value: impl Into<String>,
        goal: impl Into<String>,
        met: Option<bool>,
        how: impl Into<String>,
    ) -> Self {
        Self { figure: figure.into(), value: value.into(), goal: goal.into(), met, how: how.into() }
    }
}

/// Prints the rows as a Markdown table.
pub fn print(rows: &[Row]) {
    println!("| figure | value | goal | met | how it was measured |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!("| {} | {} | {} | {} | {} |", row.figure, row.value, row.goal, met, row.how);
    }
}

/// The `p`-th percentile (0-100) of `samples` (sorted here), nearest rank.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil().max(1.0) as usize;
    samples[rank.min(samples.len()) - 1]
}
