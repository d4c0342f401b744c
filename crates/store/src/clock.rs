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
    // The store's own format, `YYYY-MM-DDTHH:MM:SS.mmmZ`, read directly (a period holds a million).
    if let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
        b'.',
        f0,
        f1,
        f2,
        b'Z',
    ] = *t.as_bytes()
    {
        let digits = [
            y0, y1, y2, y3, m0, m1, d0, d1, h0, h1, i0, i1, s0, s1, f0, f1, f2,
        ];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |a: &[u8]| a.iter().fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'));
            let (y, m, d) = (n(&[y0, y1, y2, y3]), n(&[m0, m1]), n(&[d0, d1]));
            if (1..=12).contains(&m) && (1..=31).contains(&d) {
                let days = days_from_civil(y as i32, m as u8, d as u8);
                let secs = n(&[h0, h1]) * 3600 + n(&[i0, i1]) * 60 + n(&[s0, s1]);
                return (days * 86_400 + secs) * 1000 + n(&[f0, f1, f2]);
            }
        }
    }
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
/// A stored UTC time as Beijing time to the second, `2022-06-01 08:30:00`; other text unchanged.
pub fn beijing_second(t: &str) -> String {
    parse_time(t).map_or_else(
        || t.to_owned(),
        |x| {
            let b = x.to_offset(BEIJING);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                b.year(),
                u8::from(b.month()),
                b.day(),
                b.hour(),
                b.minute(),
                b.second()
            )
        },
    )
}

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

/// The Beijing date (days since 1970) of a time in milliseconds.
pub(crate) fn clock_day(ms: i64) -> i64 {
    (ms + 8 * 3_600_000).div_euclid(86_400_000)
}

/// Days since 1970 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970 of a day of the rubric's year (1-based).
pub(crate) fn days_of_year_day(year: i32, day: u16) -> i64 {
    days_from_civil(year, 1, 1) + i64::from(day) - 1
}

/// Days since 1970 of a `YYYY-MM-DD` date.
pub(crate) fn day_of_text(text: &str) -> Option<i64> {
    lvzhi_core::Date::parse(text).map(|d| days_from_civil(d.year, d.month, d.day))
}

/// The last day of each month of `year`, in days since 1970.
pub(crate) fn month_ends(year: i32) -> Vec<i64> {
    (1..=12u8)
        .map(|m| {
            if m == 12 {
                days_from_civil(year + 1, 1, 1) - 1
            } else {
                days_from_civil(year, m + 1, 1) - 1
            }
        })
        .collect()
}

/// How long from `now` (a stored time) until the next `hour:minute` in Beijing: a scheduled
/// backup's wait (a whole day when it is that minute's first second now).
pub fn until_beijing(now: &str, hour: u8, minute: u8) -> std::time::Duration {
    let Some(b) = parse_time(now).map(|x| x.to_offset(BEIJING)) else {
        return std::time::Duration::from_secs(86_400);
    };
    let secs = i64::from(b.hour()) * 3600 + i64::from(b.minute()) * 60 + i64::from(b.second());
    let target = i64::from(hour) * 3600 + i64::from(minute) * 60;
    let wait = (target - secs).rem_euclid(86_400);
    std::time::Duration::from_secs(if wait == 0 {
        86_400
    } else {
        wait.unsigned_abs()
    })
}

/// Seconds from stored time `from` to stored time `to` (`None` when one cannot be read).
pub fn seconds_between(from: &str, to: &str) -> Option<f64> {
    let (a, b) = (parse_time(from)?, parse_time(to)?);
    Some((b - a).as_seconds_f64())
}

/// A file's time (its modification time) as the store writes times.
pub fn of_system_time(t: std::time::SystemTime) -> String {
    format_time(OffsetDateTime::from(t))
}

/// A stored time as a file name's stamp, `YYYYMMDDHHMMSS` (UTC): backups are named by it.
pub fn file_stamp(t: &str) -> String {
    t.chars().filter(char::is_ascii_digit).take(14).collect()
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
        // The fast path and the general parser agree.
        let other = "2024-02-29T23:59:59.999+00:00";
        assert_eq!(millis("2024-02-29T23:59:59.999Z"), millis(other));
        assert_eq!(millis("1970-01-01T00:00:00.000Z"), 0);
        assert_eq!(beijing_today(t), "2022年7月2日");
    }
    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2022, 1, 1), 18_993);
        assert_eq!(days_of_year_day(2022, 365), days_from_civil(2022, 12, 31));
        assert_eq!(month_ends(2024)[1], days_from_civil(2024, 2, 29));
        // 2022-07-01T16:30Z is 2022-07-02 in Beijing.
        assert_eq!(
            clock_day(millis("2022-07-01T16:30:00.000Z")),
            days_from_civil(2022, 7, 2)
        );
    }

    #[test]
    fn a_scheduled_time_is_waited_for_in_beijing() {
        // 2026-12-03 07:00 UTC is 15:00 in Beijing.
        let now = "2026-12-03T07:00:00Z";
        assert_eq!(until_beijing(now, 15, 30).as_secs(), 30 * 60);
        assert_eq!(until_beijing(now, 2, 0).as_secs(), 11 * 3600);
        assert_eq!(until_beijing(now, 15, 0).as_secs(), 86_400);
    }
}
