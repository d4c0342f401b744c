//! The store's one clock, and the time formats it writes: every time the store stores, every deadline
//! it computes and every "overdue" it answers comes from [`Clock::now`], so a test clock moves all of
//! them together. Times are RFC 3339 UTC text with milliseconds (they sort as text); calendar dates
//! for people are Beijing dates (UTC+8). This module knows no SQL.

use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A replacement for the system clock: the current time as RFC 3339 UTC text (for tests that walk
/// through a year).
pub type ClockFn = Arc<dyn Fn() -> String + Send + Sync>;

/// The clock of a store: the system's, unless one was set.
#[derive(Clone, Default)]
pub struct Clock(Option<ClockFn>);

impl Clock {
    pub fn set(f: ClockFn) -> Clock {
        Clock(Some(f))
    }

    /// The current time as the store writes it.
    pub fn now(&self) -> String {
        match &self.0 {
            Some(f) => f(),
            None => format_time(OffsetDateTime::now_utc()),
        }
    }
}

const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

pub(crate) fn parse_time(t: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(t, &Rfc3339).ok()
}

/// A time as the store writes it: RFC 3339 UTC with milliseconds.
pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// `t` plus whole days.
pub(crate) fn plus_days(t: &str, days: i64) -> String {
    parse_time(t).map_or_else(
        || t.to_owned(),
        |x| format_time(x + time::Duration::days(days)),
    )
}

/// Milliseconds since 1970 of a stored time (0 when it cannot be read).
pub(crate) fn millis(t: &str) -> i64 {
    parse_time(t).map_or(0, |x| (x.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A stored time from milliseconds since 1970.
pub(crate) fn from_millis(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(format_time)
        .unwrap_or_default()
}

/// The Beijing calendar date (`YYYY-MM-DD`) of a stored time.
pub fn beijing_date(t: &str) -> String {
    parse_time(t).map_or_else(
        || t.get(..10).unwrap_or(t).to_owned(),
        |x| {
            let d = x.to_offset(BEIJING).date();
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
        },
    )
}

/// A stored time in Beijing for people: `2022-07-08 17:00`.
pub fn beijing_minute(t: &str) -> String {
    parse_time(t).map_or_else(
        || t.to_owned(),
        |x| {
            let b = x.to_offset(BEIJING);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                b.year(),
                u8::from(b.month()),
                b.day(),
                b.hour(),
                b.minute()
            )
        },
    )
}

/// Today's date in Beijing as a notice dates itself: `2026年11月28日`.
pub fn beijing_today(now: &str) -> String {
    parse_time(now).map_or_else(String::new, |x| {
        let b = x.to_offset(BEIJING);
        format!("{}年{}月{}日", b.year(), u8::from(b.month()), b.day())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = "2022-07-01T16:30:00.000Z";
        assert_eq!(beijing_date(t), "2022-07-02");
        assert_eq!(beijing_minute(t), "2022-07-02 00:30");
        assert_eq!(plus_days(t, 7), "2022-07-08T16:30:00.000Z");
        assert_eq!(from_millis(millis(t)), t);
        assert_eq!(beijing_today(t), "2022年7月2日");
    }
}
