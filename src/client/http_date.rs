//! The HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7) as a unix time: Stripe's clock at
//! the moment it answered, which a page's data can be dated by without trusting ours.
//!
//! Only the one format HTTP/1.1 servers must send, `Sun, 06 Nov 1994 08:49:37 GMT`; the
//! obsolete RFC 850 and asctime forms yield None, as does anything malformed.

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sun, 06 Nov 1994 08:49:37 GMT` → 784111777. The weekday must match the date.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let (day_name, rest) = s.split_once(", ")?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = fields[..] else {
        return None;
    };
    let (day, year) = (digits(day, 2)?, digits(year, 4)?);
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let [h, m, sec] = time.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let (h, m, sec) = (digits(h, 2)?, digits(m, 2)?, digits(sec, 2)?);
    // 60 is a leap second; it reads as the first second of the next minute.
    if !(1..=days_in_month(year, month)).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_epoch(year, month, day);
    if DAYS[days.rem_euclid(7) as usize] != day_name {
        return None;
    }
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// Exactly `len` ASCII digits.
fn digits(s: &str, len: usize) -> Option<i64> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar.
fn days_from_epoch(year: i64, month: i64, day: i64) -> i64 {
    // Count from March, so that the leap day is the last day of the counted year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse(" Wed, 31 Dec 1969 23:59:59 GMT "), Some(-1));
        assert_eq!(parse("Tue, 14 Nov 2023 22:13:20 GMT"), Some(1_700_000_000));
        assert_eq!(parse("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
        assert_eq!(parse("Sat, 31 Dec 2016 23:59:60 GMT"), Some(1_483_228_800));
        assert_eq!(parse("Sun, 07 Feb 2106 06:28:16 GMT"), Some(1 << 32));
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // Against a plain day-by-day count from the epoch.
        let mut days = 0;
        for year in 1970..2370 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(
                        days_from_epoch(year, month, day),
                        days,
                        "{year}-{month}-{day}"
                    );
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn rejects_other_forms_and_nonsense() {
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Thu, 29 Feb 2001 00:00:00 GMT",
            "Wed, 31 Apr 2024 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, +6 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
