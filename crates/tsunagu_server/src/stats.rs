//! Measurements the server keeps about itself (never about people).

use std::time::Duration;

/// Delays in 10 µs buckets up to 100 ms (one more bucket holds anything
/// longer): fixed memory however many are recorded.
#[derive(Clone, Debug)]
pub struct DelayHistogram {
    buckets: Vec<u64>,
    count: u64,
}

const BUCKET: Duration = Duration::from_micros(10);
const BUCKETS: usize = 10_000;

impl Default for DelayHistogram {
    fn default() -> Self {
        DelayHistogram { buckets: vec![0; BUCKETS + 1], count: 0 }
    }
}

impl DelayHistogram {
    /// Count one delay.
    pub fn record(&mut self, delay: Duration) {
        let bucket = usize::try_from(delay.as_micros() / BUCKET.as_micros()).unwrap_or(BUCKETS).min(BUCKETS);
        self.buckets[bucket] += 1;
        self.count += 1;
    }

    /// How many delays were counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The delay `p` (0..=1) of them were at or under, to the bucket's upper
    /// edge; `None` before anything was counted.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let wanted = ((self.count as f64 * p.clamp(0.0, 1.0)).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                return Some(BUCKET * (i as u32 + 1));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_buckets() {
        let mut h = DelayHistogram::default();
        assert_eq!(h.percentile(0.5), None);
        for us in 1..=100 {
            h.record(Duration::from_micros(us * 10 - 5));
        }
        assert_eq!(h.percentile(0.5), Some(Duration::from_micros(500)));
        assert_eq!(h.percentile(0.99), Some(Duration::from_micros(990)));
        h.record(Duration::from_secs(3));
        assert_eq!(h.percentile(1.0), Some(BUCKET * (BUCKETS as u32 + 1)), "a long one lands in the last bucket");
        assert_eq!(h.count(), 101);
    }
}
