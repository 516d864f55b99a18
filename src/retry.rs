//! Retry policy for Stripe API calls: when to retry and how long to wait.
//!
//! Pure and deterministic given a seeded [`Jitter`], so it is unit-testable
//! without a clock or a network.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Upper bound on any wait, even when the server asks for a longer one via
/// `Retry-After`: a sync stuck sleeping for minutes is worse than an error.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first one (0 is treated as 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles for each further one.
    pub base: Duration,
    /// Cap on the computed backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry,
    Stop,
}

impl RetryPolicy {
    /// Wait before the next try, after attempt number `attempt` (1-based) failed.
    ///
    /// "Equal jitter": half the exponential step is fixed, the other half is
    /// random, so concurrent syncs spread out yet never retry immediately.
    /// A server `Retry-After` is a floor, capped at max(max_delay, 60 s).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, rng: &mut Jitter) -> Duration {
        let shift = attempt.saturating_sub(1).min(31);
        let step = self.base.saturating_mul(1u32 << shift).min(self.max_delay);
        let half = step / 2;
        let jitter = Duration::from_nanos(rng.below(duration_nanos(step - half) + 1));
        let backoff = half + jitter;
        match retry_after {
            Some(ra) => backoff.max(ra).min(self.max_delay.max(RETRY_AFTER_CAP)),
            None => backoff,
        }
    }

    /// Combine the attempt budget with [`should_retry`].
    pub fn decide(
        &self,
        attempt: u32,
        status: Option<u16>,
        stripe_should_retry: Option<bool>,
    ) -> Decision {
        if attempt < self.max_attempts.max(1) && should_retry(status, stripe_should_retry) {
            Decision::Retry
        } else {
            Decision::Stop
        }
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether a failed request is worth retrying.
///
/// `status` is `None` for connection errors and timeouts. Stripe's
/// `Stripe-Should-Retry` header, when present, is authoritative.
pub fn should_retry(status: Option<u16>, stripe_should_retry: Option<bool>) -> bool {
    if let Some(hint) = stripe_should_retry {
        return hint;
    }
    match status {
        None => true,
        // 409: idempotency-key or object lock conflict, usually transient.
        Some(409) | Some(429) => true,
        Some(s) => (500..=599).contains(&s),
    }
}

/// Parse a `Retry-After` value given in (possibly fractional) seconds.
/// The HTTP-date form is not supported and yields `None`.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// Tiny xorshift64* PRNG: good enough to de-synchronise retries, and avoids
/// a dependency on `rand`.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    pub fn seeded(seed: u64) -> Jitter {
        // Scramble with splitmix64 so nearby seeds diverge; xorshift must not
        // start from 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Jitter {
            state: if z == 0 { 0x2545_F491_4F6C_DD1D } else { z },
        }
    }

    /// Seed from the clock and the process id: Postgres backends starting in
    /// the same instant still get different streams.
    pub fn from_time() -> Jitter {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(duration_nanos)
            .unwrap_or(0);
        Jitter::seeded(nanos ^ (u64::from(std::process::id()) << 32))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: 100 * MS,
            max_delay: 1000 * MS,
        }
    }

    #[test]
    fn delay_grows_with_equal_jitter_and_is_capped() {
        let p = policy();
        let mut rng = Jitter::seeded(7);
        for _ in 0..200 {
            for (attempt, step) in [
                (1, 100),
                (2, 200),
                (3, 400),
                (4, 800),
                (5, 1000),
                (40, 1000),
            ] {
                let d = p.delay(attempt, None, &mut rng);
                assert!(
                    d >= step * MS / 2 && d <= step * MS,
                    "attempt {attempt}: {d:?}"
                );
            }
        }
        // attempt 0 behaves like attempt 1 instead of underflowing.
        assert!(p.delay(0, None, &mut rng) <= 100 * MS);
    }

    #[test]
    fn delay_is_deterministic_for_a_seed() {
        let p = policy();
        let run = |seed| {
            let mut rng = Jitter::seeded(seed);
            (1..6)
                .map(|a| p.delay(a, None, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn retry_after_is_a_floor_with_a_cap() {
        let p = policy();
        let mut rng = Jitter::seeded(1);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), &mut rng),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600)), &mut rng),
            RETRY_AFTER_CAP
        );
        // A tiny Retry-After does not shorten the backoff.
        assert!(p.delay(1, Some(Duration::ZERO), &mut rng) >= 50 * MS);
        let long = RetryPolicy {
            max_delay: Duration::from_secs(120),
            ..policy()
        };
        let ra = Some(Duration::from_secs(90));
        assert_eq!(long.delay(1, ra, &mut rng), Duration::from_secs(90));
    }

    #[test]
    fn parses_retry_after() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.25 "), Some(250 * MS));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        for bad in [
            "",
            "-1",
            "NaN",
            "inf",
            "1e400",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn should_retry_table() {
        assert!(should_retry(None, None));
        for s in [409, 429, 500, 502, 503, 599] {
            assert!(should_retry(Some(s), None), "{s}");
        }
        for s in [400, 401, 402, 403, 404, 422, 600] {
            assert!(!should_retry(Some(s), None), "{s}");
        }
        assert!(!should_retry(Some(500), Some(false)));
        assert!(should_retry(Some(400), Some(true)));
    }

    #[test]
    fn decide_respects_attempt_budget() {
        let p = policy();
        assert_eq!(p.decide(1, Some(500), None), Decision::Retry);
        assert_eq!(p.decide(3, Some(500), None), Decision::Retry);
        assert_eq!(p.decide(4, Some(500), None), Decision::Stop);
        assert_eq!(p.decide(1, Some(404), None), Decision::Stop);
        let once = RetryPolicy {
            max_attempts: 0,
            ..policy()
        };
        assert_eq!(once.decide(1, None, None), Decision::Stop);
    }

    #[test]
    fn jitter_never_sticks_at_zero() {
        let mut rng = Jitter::seeded(0);
        let xs: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert!(xs.iter().all(|&x| x != 0));
        assert_eq!(rng.below(0), 0);
        assert!((0..1000).all(|_| rng.below(10) < 10));
        let _ = Jitter::from_time().next_u64();
    }
}
