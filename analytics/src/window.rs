//! A bounded window of one patient's recent readings of one metric, and the statistics the
//! detectors take from it: latest value, median, and a least-squares slope (with
//! `ndarray`).

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use healthsync_core::ids::DeviceId;
use ndarray::Array1;

/// A median over the newest this many samples: enough to outvote a burst of artifacts, and
/// a bounded cost however fast a device sends.
pub const MEDIAN_SAMPLES: usize = 25;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub t: DateTime<Utc>,
    pub device: DeviceId,
    pub value: f64,
    pub value2: Option<f64>,
    /// Suspected artifact: kept for the record, left out of every statistic.
    pub artifact: bool,
}

/// Readings within `span` of the newest one, and at most `capacity` of them, in time order.
#[derive(Clone, Debug)]
pub struct Window {
    samples: VecDeque<Sample>,
    span: Duration,
    capacity: usize,
}

impl Window {
    pub fn new(span: Duration, capacity: usize) -> Window {
        Window {
            samples: VecDeque::new(),
            span,
            capacity,
        }
    }

    /// Inserts in time order: devices upload late and replay backlogs.
    pub fn push(&mut self, sample: Sample) {
        let at = self.samples.partition_point(|s| s.t <= sample.t);
        self.samples.insert(at, sample);
        let newest = self.samples.back().map_or(sample.t, |s| s.t);
        while self.samples.len() > self.capacity
            || self
                .samples
                .front()
                .is_some_and(|s| newest - s.t > self.span)
        {
            self.samples.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Usable samples measured in `(until - within, until]`, newest first.
    pub fn recent(&self, until: DateTime<Utc>, within: Duration) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .rev()
            .skip_while(move |s| s.t > until)
            .take_while(move |s| until - s.t < within)
            .filter(|s| !s.artifact)
    }

    /// The newest usable sample at or before `until`, if it is younger than `within`.
    pub fn latest(&self, until: DateTime<Utc>, within: Duration) -> Option<&Sample> {
        self.samples
            .iter()
            .rev()
            .find(|s| !s.artifact && s.t <= until)
            .filter(|s| until - s.t < within)
    }

    /// Median of the newest usable values (at most [`MEDIAN_SAMPLES`]) in
    /// `(until - within, until]` from `device` (any device when `None`), if there are at
    /// least `min_samples` of them.
    pub fn median(
        &self,
        until: DateTime<Utc>,
        within: Duration,
        device: Option<DeviceId>,
        min_samples: usize,
    ) -> Option<f64> {
        let mut sorted: Vec<f64> = self
            .recent(until, within)
            .filter(|s| device.is_none_or(|d| s.device == d))
            .take(MEDIAN_SAMPLES)
            .map(|s| s.value)
            .collect();
        if sorted.len() < min_samples.max(1) {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        Some(if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        })
    }

    /// Least-squares slope per minute of the usable values in `(until - within, until]`,
    /// with the fitted value at `until`, if there are at least `min_samples` spanning at
    /// least a minute.
    pub fn trend(
        &self,
        until: DateTime<Utc>,
        within: Duration,
        min_samples: usize,
    ) -> Option<Trend> {
        let (minutes, values): (Vec<f64>, Vec<f64>) = self
            .recent(until, within)
            .map(|s| ((s.t - until).num_milliseconds() as f64 / 60_000.0, s.value))
            .unzip();
        if values.len() < min_samples.max(2) {
            return None;
        }
        let x = Array1::from(minutes);
        let y = Array1::from(values);
        let (x_mean, y_mean) = (x.mean()?, y.mean()?);
        let dx = &x - x_mean;
        let spread = dx.dot(&dx);
        if x.fold(f64::INFINITY, |a, &b| a.min(b)) > -1.0 || spread <= f64::EPSILON {
            return None;
        }
        let per_minute = dx.dot(&(&y - y_mean)) / spread;
        // x is minutes relative to `until`, so the fit's value there is its intercept.
        let now = y_mean - per_minute * x_mean;
        Some(Trend {
            per_minute,
            now,
            samples: y.len(),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    pub per_minute: f64,
    /// The fitted value at the end of the window.
    pub now: f64,
    pub samples: usize,
}

impl Trend {
    pub fn projected(&self, minutes: f64) -> f64 {
        self.now + self.per_minute * minutes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn sample(seconds: i64, value: f64) -> Sample {
        Sample {
            t: at(seconds),
            device: DeviceId(uuid::Uuid::nil()),
            value,
            value2: None,
            artifact: false,
        }
    }

    #[test]
    fn keeps_only_the_span_and_the_capacity_in_time_order() {
        let mut w = Window::new(Duration::seconds(60), 5);
        for s in [0, 30, 10, 20] {
            w.push(sample(s, s as f64));
        }
        let times: Vec<_> = w
            .recent(at(30), Duration::hours(1))
            .map(|s| s.value)
            .collect();
        assert_eq!(times, [30.0, 20.0, 10.0, 0.0], "newest first");
        w.push(sample(75, 75.0));
        assert_eq!(
            w.len(),
            3,
            "0 s and 10 s are more than 60 s older than 75 s"
        );
        for s in 76..80 {
            w.push(sample(s, 0.0));
        }
        assert_eq!(w.len(), 5);
    }

    #[test]
    fn median_and_latest_leave_artifacts_out() {
        let mut w = Window::new(Duration::hours(1), 100);
        for (s, v) in [(0, 70.0), (5, 72.0), (10, 71.0), (15, 74.0)] {
            w.push(sample(s, v));
        }
        w.push(Sample {
            artifact: true,
            ..sample(20, 230.0)
        });
        assert_eq!(w.median(at(20), Duration::seconds(60), None, 3), Some(71.5));
        assert_eq!(w.median(at(20), Duration::seconds(60), None, 5), None);
        assert_eq!(w.latest(at(20), Duration::seconds(60)).unwrap().value, 74.0);
        assert_eq!(w.latest(at(100), Duration::seconds(60)), None);
    }

    #[test]
    fn trend_fits_a_straight_line() {
        let mut w = Window::new(Duration::hours(1), 100);
        for i in 0..5 {
            // 150 mg/dL falling 3 mg/dL a minute, sampled every 5 minutes.
            w.push(sample(i * 300, 150.0 - 15.0 * i as f64));
        }
        let trend = w.trend(at(1200), Duration::minutes(30), 3).unwrap();
        assert!((trend.per_minute + 3.0).abs() < 1e-9, "{trend:?}");
        assert!((trend.now - 90.0).abs() < 1e-9, "{trend:?}");
        assert!((trend.projected(20.0) - 30.0).abs() < 1e-9);
        assert_eq!(w.trend(at(1200), Duration::minutes(30), 6), None);
        assert_eq!(
            w.trend(at(1200), Duration::seconds(30), 1),
            None,
            "spans no minute"
        );
    }
}
