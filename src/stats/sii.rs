//! Slope and Relative Index of Inequality with simulated intervals (metrics.md §4).
//! Follows PHEindicatormethods `R/SII_function.R` (`phe_sii`, transform = FALSE)
//! and `R/utils.R` (`FindXValues`, `SimulationFunc`); checked against the
//! package's `testdata_SII.xlsx`. Groups come most deprived first, and phm
//! passes m′ = −m so a positive SII means higher values among the more deprived.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

use super::{check_confidence, check_finite, normal_quantile, round_half_even, Result, StatsError};

/// What kind of value the groups carry, which sets the scale the simulation
/// draws on (the package's `value_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ValueType {
    /// Drawn as is (life expectancy, scores): value_type 0.
    Other,
    /// Drawn on the log scale, so simulated rates stay positive: value_type 1.
    Rate,
    /// Drawn on the logit scale, so simulated proportions stay in (0, 1):
    /// value_type 2. Values and limits must be proportions (0–1), not percentages.
    Proportion,
}

/// One deprivation group: its value, 95% limits and population.
///
/// A missing group is passed as a NaN value (or population 0), so that the
/// SII is withheld with a note rather than silently fitted on fewer groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SiiGroup {
    pub value: f64,
    pub lower95: f64,
    pub upper95: f64,
    pub population: f64,
}

/// Settings of [`sii`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SiiOptions {
    pub value_type: ValueType,
    /// phm's multiplier m (100 for percentages); the package is called with
    /// m′ = −m so that, most deprived first, a positive SII and an RII above 1
    /// mean higher values among the more deprived (metrics.md §4 step 3).
    pub multiplier: f64,
    /// Simulated samples R (metrics.md: 100,000; the package refuses < 1,000).
    pub repetitions: usize,
    /// Seed of the random streams: the same seed gives the same interval on
    /// any number of threads.
    pub seed: u64,
}

impl Default for SiiOptions {
    fn default() -> Self {
        SiiOptions {
            value_type: ValueType::Other,
            multiplier: 1.0,
            repetitions: 100_000,
            seed: 0,
        }
    }
}

/// SII and RII of one area, each with 95% and 99.8% limits; `None` with a
/// `note` when not computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SiiResult {
    pub sii: Option<f64>,
    pub sii_lower95: Option<f64>,
    pub sii_upper95: Option<f64>,
    pub sii_lower998: Option<f64>,
    pub sii_upper998: Option<f64>,
    pub rii: Option<f64>,
    pub rii_lower95: Option<f64>,
    pub rii_upper95: Option<f64>,
    pub rii_lower998: Option<f64>,
    pub rii_upper998: Option<f64>,
    /// α, the fitted value at rank 0 (the most deprived end), unscaled.
    pub intercept: Option<f64>,
    pub note: Option<String>,
}

impl SiiResult {
    fn withheld(note: String) -> Self {
        SiiResult {
            note: Some(note),
            ..SiiResult::default()
        }
    }
}

/// The weighted least-squares fit of step 2: `y = α + β·rank`, weights aⱼ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SiiFit {
    /// Fitted value at rank 0 (most deprived end when groups come most deprived first).
    pub alpha: f64,
    /// Change in value from rank 0 to rank 1.
    pub beta: f64,
}

/// Fewest and most groups the package accepts (`phe_sii`).
const MIN_GROUPS: usize = 5;
const MAX_GROUPS: usize = 100;
/// Fewest repetitions the package accepts.
const MIN_REPETITIONS: usize = 1000;
/// Most repetitions phm allows: 100 times the standard, and 2 × 80 MB of
/// sorted samples, so a typo cannot exhaust memory.
const MAX_REPETITIONS: usize = 10_000_000;
/// Samples per random stream. Fixed (not tied to the thread count) so that
/// the samples, and so the sorted limits, do not depend on how rayon splits work.
const CHUNK: usize = 8192;

/// Checks the area's groups: `Ok(None)` when usable, `Ok(Some(note))` when the
/// SII is not computed for a reason metrics.md lists, `Err` for impossible input.
fn check_groups(groups: &[SiiGroup], value_type: ValueType) -> Result<Option<String>> {
    let k = groups.len();
    if !(MIN_GROUPS..=MAX_GROUPS).contains(&k) {
        return Ok(Some(format!(
            "SII not computed: {k} deprivation groups, {MIN_GROUPS} to {MAX_GROUPS} needed"
        )));
    }
    for (i, g) in groups.iter().enumerate() {
        let j = i + 1;
        if g.population.is_nan() || g.population == 0.0 {
            return Ok(Some(format!(
                "SII not computed: group {j} has no population"
            )));
        }
        if g.population < 0.0 || g.population.is_infinite() {
            return Err(StatsError::Invalid(format!(
                "group {j} has population {}, which is not a count",
                g.population
            )));
        }
        if !(g.value.is_finite() && g.lower95.is_finite() && g.upper95.is_finite()) {
            return Ok(Some(format!(
                "SII not computed: group {j} has no value or no 95% limits"
            )));
        }
        if g.lower95 > g.upper95 {
            return Err(StatsError::Invalid(format!(
                "group {j}: lower limit {} is above upper limit {}",
                g.lower95, g.upper95
            )));
        }
        if value_type == ValueType::Proportion
            && [g.value, g.lower95, g.upper95]
                .iter()
                .any(|v| !(0.0..=1.0).contains(v))
        {
            return Err(StatsError::Invalid(format!(
                "group {j}: a proportion and its limits must lie between 0 and 1 \
                 (pass 0.2, not 20%, and use the multiplier for percentages)"
            )));
        }
    }
    Ok(None)
}

/// The regression design of steps 1–2, reduced to the two rows of
/// `(XᵀX)⁻¹Xᵀ` with X = [√a, b√a]: α = Σ w_α,j √aⱼ yⱼ and β likewise, the
/// package's `invm_m`. Computing it once makes each simulated refit two dot
/// products.
struct Design {
    sqrt_a: Vec<f64>,
    w_alpha: Vec<f64>,
    w_beta: Vec<f64>,
}

impl Design {
    fn new(groups: &[SiiGroup]) -> Result<Self> {
        let total: f64 = groups.iter().map(|g| g.population).sum();
        // aⱼ = nⱼ/Σn and mid-point rank bⱼ = Σ_{i<j} aᵢ + aⱼ/2 (`FindXValues`).
        let mut cum = 0.0;
        let mut sqrt_a = Vec::with_capacity(groups.len());
        let mut b_sqrt_a = Vec::with_capacity(groups.len());
        for g in groups {
            let a = g.population / total;
            let b = cum + a / 2.0;
            cum += a;
            sqrt_a.push(a.sqrt());
            b_sqrt_a.push(b * a.sqrt());
        }
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
        let uu = dot(&sqrt_a, &sqrt_a);
        let uv = dot(&sqrt_a, &b_sqrt_a);
        let vv = dot(&b_sqrt_a, &b_sqrt_a);
        let det = uu * vv - uv * uv;
        if !(det.is_finite() && det > 0.0) {
            return Err(StatsError::Invalid(
                "the groups' ranks do not spread enough to fit a slope".into(),
            ));
        }
        let w_alpha = sqrt_a
            .iter()
            .zip(&b_sqrt_a)
            .map(|(u, v)| (vv * u - uv * v) / det)
            .collect();
        let w_beta = sqrt_a
            .iter()
            .zip(&b_sqrt_a)
            .map(|(u, v)| (uu * v - uv * u) / det)
            .collect();
        Ok(Design {
            sqrt_a,
            w_alpha,
            w_beta,
        })
    }

    /// Fit to values y (one per group), as `lm(√a·y ~ √a + b√a − 1)`.
    fn fit(&self, y: impl Iterator<Item = f64>) -> SiiFit {
        let (mut alpha, mut beta) = (0.0, 0.0);
        for (((yj, u), wa), wb) in y.zip(&self.sqrt_a).zip(&self.w_alpha).zip(&self.w_beta) {
            let yw = yj * u;
            alpha += wa * yw;
            beta += wb * yw;
        }
        SiiFit { alpha, beta }
    }
}

/// The point fit of step 2 (no simulation), for groups already checked.
pub fn sii_fit(groups: &[SiiGroup]) -> Result<SiiFit> {
    for g in groups {
        check_finite("group value", g.value)?;
        check_finite("group population", g.population)?;
    }
    if groups.len() < 2 || groups.iter().any(|g| g.population <= 0.0) {
        return Err(StatsError::Invalid(
            "a slope needs at least 2 groups, each with a population above 0".into(),
        ));
    }
    let design = Design::new(groups)?;
    Ok(design.fit(groups.iter().map(|g| g.value)))
}

/// `(α + β)/α`, inverted when m′ < 0 (metrics.md §4 step 3).
fn rii_of(fit: SiiFit, m_prime: f64) -> f64 {
    let rii = (fit.alpha + fit.beta) / fit.alpha;
    if m_prime < 0.0 {
        1.0 / rii
    } else {
        rii
    }
}

/// The simulated SIIs and RIIs of step 4, sorted, from which limits at any
/// confidence level are read (phm publishes 95% and 99.8%).
#[derive(Debug, Clone, PartialEq)]
pub struct SiiSimulation {
    sii: Vec<f64>,
    rii: Vec<f64>,
}

impl SiiSimulation {
    /// Number of simulated samples.
    pub fn repetitions(&self) -> usize {
        self.sii.len()
    }

    /// SII limits at confidence `c`: the `round(R(1 − c)/2)`-th and
    /// `round(R(c + (1 − c)/2))`-th smallest simulated SII (1-based).
    pub fn sii_limits(&self, c: f64) -> Result<(f64, f64)> {
        percentile_limits(&self.sii, c)
    }

    /// RII limits at confidence `c`, read the same way.
    pub fn rii_limits(&self, c: f64) -> Result<(f64, f64)> {
        percentile_limits(&self.rii, c)
    }
}

/// The package's `pos_lower`/`pos_upper` positions in a sorted sample.
fn percentile_limits(sorted: &[f64], c: f64) -> Result<(f64, f64)> {
    check_confidence(c)?;
    let r = sorted.len();
    if r == 0 {
        return Err(StatsError::Invalid("no simulated samples".into()));
    }
    let upper_p = c + (1.0 - c) / 2.0;
    // Clamped to 1..=R so a small R cannot ask for position 0 (R would give NA).
    let at = |p: f64| {
        let i = (round_half_even(r as f64 * p) as usize).clamp(1, r) - 1;
        sorted.get(i).copied().unwrap_or(f64::NAN) // i < r, so never NAN
    };
    Ok((at(1.0 - upper_p), at(upper_p)))
}

/// Transform to the scale the simulation draws on, and back.
fn forward(v: f64, t: ValueType) -> f64 {
    match t {
        ValueType::Other => v,
        ValueType::Rate => v.ln(),
        ValueType::Proportion => (v / (1.0 - v)).ln(),
    }
}

fn backward(s: f64, t: ValueType) -> f64 {
    match t {
        ValueType::Other => s,
        ValueType::Rate => s.exp(),
        ValueType::Proportion => s.exp() / (1.0 + s.exp()),
    }
}

/// Step 4's simulation. [`StatsError::TransformUndefined`] when a group's
/// value or limit has no log/logit (a zero numerator): [`sii`] turns that
/// into a note, as metrics.md asks.
///
/// Groups should already pass the checks of [`sii`]. Each block of [`CHUNK`]
/// samples draws from its own ChaCha20 stream (stream number = block index,
/// key from `seed`), so results are identical for a given seed whatever the
/// thread count. Standard errors come from the 95% limits on the transformed
/// scale, `(U − L)/(2·z(0.95))`, as the package's `se_calc`.
pub fn sii_simulate(groups: &[SiiGroup], options: &SiiOptions) -> Result<SiiSimulation> {
    if options.repetitions > MAX_REPETITIONS {
        return Err(StatsError::Invalid(format!(
            "{} repetitions is more than phm allows ({MAX_REPETITIONS}); metrics.md uses 100,000",
            options.repetitions
        )));
    }
    let m_prime = -options.multiplier;
    let t = options.value_type;
    let z95 = normal_quantile(0.975);
    let mut mean = Vec::with_capacity(groups.len());
    let mut se = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let (y, l, u) = (
            forward(g.value, t),
            forward(g.lower95, t),
            forward(g.upper95, t),
        );
        if !(y.is_finite() && l.is_finite() && u.is_finite()) {
            return Err(StatsError::TransformUndefined {
                group: i + 1,
                scale: if t == ValueType::Rate { "log" } else { "logit" },
            });
        }
        mean.push(y);
        se.push((u - l) / 2.0 / z95);
    }
    let design = Design::new(groups)?;
    let r = options.repetitions;
    let n_chunks = r.div_ceil(CHUNK);
    let chunks: Vec<(Vec<f64>, Vec<f64>)> = (0..n_chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut rng = ChaCha20Rng::seed_from_u64(options.seed);
            rng.set_stream(chunk as u64);
            let reps = CHUNK.min(r - chunk * CHUNK);
            let mut sii = Vec::with_capacity(reps);
            let mut rii = Vec::with_capacity(reps);
            for _ in 0..reps {
                let fit = design.fit(mean.iter().zip(&se).map(|(&mu, &s)| {
                    let draw: f64 = StandardNormal.sample(&mut rng);
                    backward(mu + s * draw, t)
                }));
                sii.push(fit.beta * m_prime);
                rii.push(rii_of(fit, m_prime));
            }
            (sii, rii)
        })
        .collect();
    let (mut sii, mut rii): (Vec<f64>, Vec<f64>) = (Vec::with_capacity(r), Vec::with_capacity(r));
    for (s, q) in chunks {
        sii.extend(s);
        rii.extend(q);
    }
    sii.par_sort_unstable_by(f64::total_cmp);
    rii.par_sort_unstable_by(f64::total_cmp);
    Ok(SiiSimulation { sii, rii })
}

/// SII and RII of one area with simulated 95% and 99.8% limits (metrics.md §4).
///
/// `groups` are the k deprivation groups, **most deprived first**. When the
/// SII cannot be computed for a reason metrics.md gives (k outside 5–100, a
/// group with no population or no value) every field is `None` and `note`
/// says why; when only the interval cannot be (a zero numerator under a
/// log/logit scale) the point values are kept. Impossible input (negative
/// populations, proportions above 1, R < 1,000) is an error.
pub fn sii(groups: &[SiiGroup], options: &SiiOptions) -> Result<SiiResult> {
    check_finite("multiplier", options.multiplier)?;
    if options.multiplier == 0.0 {
        return Err(StatsError::NotPositive {
            what: "multiplier (absolute value)",
            value: 0.0,
        });
    }
    if options.repetitions < MIN_REPETITIONS {
        return Err(StatsError::Invalid(format!(
            "{} repetitions is too few for SII limits; use at least {MIN_REPETITIONS} \
             (metrics.md: 100,000)",
            options.repetitions
        )));
    }
    if let Some(note) = check_groups(groups, options.value_type)? {
        return Ok(SiiResult::withheld(note));
    }
    let m_prime = -options.multiplier;
    let fit = Design::new(groups)?.fit(groups.iter().map(|g| g.value));
    let rii = Some(rii_of(fit, m_prime)).filter(|r| r.is_finite());
    let mut notes = Vec::new();
    if rii.is_none() {
        notes.push("RII not computed: the fitted value at rank 0 is 0".to_string());
    }
    let mut result = SiiResult {
        sii: Some(m_prime * fit.beta),
        rii,
        intercept: Some(fit.alpha),
        ..SiiResult::default()
    };
    match sii_simulate(groups, options) {
        Err(e @ StatsError::TransformUndefined { .. }) => {
            notes.push(format!("SII interval not computed: {e}"));
        }
        Err(e) => return Err(e),
        Ok(sim) => {
            let (l95, u95) = sim.sii_limits(0.95)?;
            let (l998, u998) = sim.sii_limits(0.998)?;
            (result.sii_lower95, result.sii_upper95) = (Some(l95), Some(u95));
            (result.sii_lower998, result.sii_upper998) = (Some(l998), Some(u998));
            if result.rii.is_some() {
                let (l95, u95) = sim.rii_limits(0.95)?;
                let (l998, u998) = sim.rii_limits(0.998)?;
                (result.rii_lower95, result.rii_upper95) = (Some(l95), Some(u95));
                (result.rii_lower998, result.rii_upper998) = (Some(l998), Some(u998));
            }
        }
    }
    if !notes.is_empty() {
        result.note = Some(notes.join("; "));
    }
    Ok(result)
}

#[cfg(test)]
mod tests;
