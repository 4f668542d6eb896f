//! metrics.md's formulas written out again, independently of phm's `stats`,
//! for tests that recompute published figures from published counts.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Φ⁻¹(0.975) and Φ⁻¹(0.999) (R: qnorm).
pub const Z95: f64 = 1.959963984540054;
pub const Z998: f64 = 3.090232306167813;

/// Wilson score limits (metrics.md §1), as proportions.
pub fn wilson(x: f64, n: f64, z: f64) -> (f64, f64) {
    let root = z * (z * z + 4.0 * x * (1.0 - x / n)).sqrt();
    (
        (2.0 * x + z * z - root) / (2.0 * (n + z * z)),
        (2.0 * x + z * z + root) / (2.0 * (n + z * z)),
    )
}

/// Exact Poisson (x < 10) or Byar (x ≥ 10) limits of a count (metrics.md §2).
pub fn count_limits(x: f64, z: f64, confidence: f64) -> (f64, f64) {
    if x < 10.0 {
        let lower = if x == 0.0 {
            0.0
        } else {
            ChiSquared::new(2.0 * x)
                .unwrap()
                .inverse_cdf((1.0 - confidence) / 2.0)
                / 2.0
        };
        let upper = ChiSquared::new(2.0 * x + 2.0)
            .unwrap()
            .inverse_cdf(confidence + (1.0 - confidence) / 2.0)
            / 2.0;
        (lower, upper)
    } else {
        let lower = x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * x.sqrt())).powi(3);
        let y = x + 1.0;
        let upper = y * (1.0 - 1.0 / (9.0 * y) + z / (3.0 * y.sqrt())).powi(3);
        (lower, upper)
    }
}

/// Φ⁻¹ at the two funnel probabilities.
fn quantile(p: f64) -> f64 {
    if p == 0.975 {
        Z95
    } else {
        assert_eq!(p, 0.999);
        Z998
    }
}

/// A proportion funnel's limit at population n around av (metrics.md §6).
pub fn funnel_limit(p: f64, n: f64, av: f64, high: bool) -> f64 {
    let q = quantile(p);
    let a = av * (n / (q * q) + 1.0);
    let d = 1.0 / (q * q) + 1.0 / n;
    let s = ((8.0 * a).powi(2)
        - 64.0 * d * av * (n * (av * (n / (q * q) + 2.0) - 1.0) + q * q * (av - 1.0)))
        .sqrt();
    let v = if high {
        (a + s / 8.0) / d / n
    } else {
        (a - s / 8.0) / d / n
    };
    v.clamp(0.0, 1.0)
}

/// SII and RII point estimates (metrics.md §4 steps 1–3, m′ = −m) of values
/// `y` (per head) with populations `n`, most deprived first.
pub fn sii_point(y: &[f64], n: &[f64], m: f64) -> (f64, f64) {
    let total: f64 = n.iter().sum();
    let a: Vec<f64> = n.iter().map(|v| v / total).collect();
    let mut b = Vec::new();
    let mut cum = 0.0;
    for ai in &a {
        b.push(cum + ai / 2.0);
        cum += ai;
    }
    // Weighted least squares of y on b with weights a.
    let mean_b: f64 = a.iter().zip(&b).map(|(a, b)| a * b).sum();
    let mean_y: f64 = a.iter().zip(y).map(|(a, y)| a * y).sum();
    let cov: f64 = a
        .iter()
        .zip(&b)
        .zip(y)
        .map(|((a, b), y)| a * (b - mean_b) * (y - mean_y))
        .sum();
    let var: f64 = a
        .iter()
        .zip(&b)
        .map(|(a, b)| a * (b - mean_b).powi(2))
        .sum();
    let beta = cov / var;
    let alpha = mean_y - beta * mean_b;
    let rii = (alpha + beta) / alpha;
    (-m * beta, 1.0 / rii)
}

/// Relative closeness, absolute near 0.
pub fn near(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}
