//! Credit card number checks: the Luhn checksum plus the issuer prefixes and
//! lengths of the major card networks, so that a random long number is not
//! taken for a card.

/// Whether `text` (digits, possibly split by spaces, no-break spaces, dots
/// or dashes) looks like a real card number: 13 to 19 digits, a known
/// issuer prefix, a valid Luhn checksum, and one kind of separator at most.
/// Dots only separate groups written as on the card (a first group of four,
/// then groups of three to six), so that `3.14159265358979` is a number.
pub(crate) fn is_card_number(text: &str) -> bool {
    let mut digits = [0u8; 19];
    let mut len = 0usize;
    let mut separator: Option<char> = None;
    let mut groups = [0usize; 19];
    let mut group_count = 1usize;
    for c in text.chars() {
        match c {
            '0'..='9' => {
                if len == digits.len() {
                    return false;
                }
                digits[len] = c as u8 - b'0';
                len += 1;
                groups[group_count - 1] += 1;
            }
            ' ' | '-' | '.' | SEPARATOR_NBSP | '\u{2007}' | '\u{2009}' | '\u{202F}' => {
                match separator {
                    Some(sep) if sep != c => return false,
                    _ => separator = Some(c),
                }
                if group_count == groups.len() {
                    return false;
                }
                group_count += 1;
            }
            _ => return false,
        }
    }
    let groups = &groups[..group_count];
    if separator == Some('.') && (groups[0] != 4 || groups.iter().any(|&g| !(3..=6).contains(&g))) {
        return false;
    }
    let digits = &digits[..len];
    len >= 13 && known_issuer(digits) && luhn_valid(digits)
}

/// U+00A0, the no-break space.
const SEPARATOR_NBSP: char = '\u{A0}';

/// Whether an integer (a JSON number) is a card number.
pub(crate) fn is_card_number_u64(value: u64) -> bool {
    if value < 1_000_000_000_000 {
        return false;
    }
    let mut buf = [0u8; 20];
    let mut n = value;
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = (n % 10) as u8;
        n /= 10;
    }
    let digits = &buf[i..];
    (13..=19).contains(&digits.len()) && known_issuer(digits) && luhn_valid(digits)
}

/// The Luhn (mod 10) checksum over decimal digits (values 0 to 9).
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer prefixes and lengths of Visa, Mastercard, American Express,
/// Discover, JCB, Diners Club, UnionPay and Maestro.
fn known_issuer(d: &[u8]) -> bool {
    let len = d.len();
    let prefix = |n: usize| {
        d.iter()
            .take(n)
            .fold(0u32, |acc, &x| acc * 10 + u32::from(x))
    };
    let p2 = prefix(2);
    let p3 = prefix(3);
    let p4 = prefix(4);
    let p6 = prefix(6);
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => ((51..=55).contains(&p2) && len == 16) || (matches!(p2, 50 | 56..=58) && len >= 12),
        2 => (2221..=2720).contains(&p4) && len == 16,
        3 => {
            (matches!(p2, 34 | 37) && len == 15)
                || ((3528..=3589).contains(&p4) && (16..=19).contains(&len))
                || (((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39))
                    && (14..=19).contains(&len))
        }
        6 => {
            (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || (622126..=622925).contains(&p6))
                && (16..=19).contains(&len)
                || (p2 == 62 && (16..=19).contains(&len))
                || (matches!(p4, 6304 | 6759 | 6761 | 6762 | 6763) && (12..=19).contains(&len))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_numbers_and_rejects_typos() {
        assert!(is_card_number("4111111111111111"));
        assert!(is_card_number("4111 1111 1111 1111"));
        assert!(is_card_number("5555-5555-5555-4444"));
        assert!(is_card_number("378282246310005"));
        assert!(is_card_number("6011111111111117"));
        assert!(!is_card_number("4111111111111112"), "checksum off by one");
        assert!(!is_card_number("4111 1111-1111 1111"), "mixed separators");
        assert!(
            !is_card_number("1234567812345670"),
            "valid Luhn, no issuer starts with 1"
        );
        assert!(!is_card_number("411111111111"), "too short");
        assert!(is_card_number("4111.1111.1111.1111"));
        assert!(is_card_number("4111\u{a0}1111\u{a0}1111\u{a0}1111"));
        assert!(is_card_number("4111\u{202f}1111\u{202f}1111\u{202f}1111"));
        assert!(
            !is_card_number("4.111111111111111"),
            "a decimal, not a card"
        );
    }

    #[test]
    fn numbers_as_integers() {
        assert!(is_card_number_u64(4_111_111_111_111_111));
        assert!(!is_card_number_u64(4_111_111_111_111_112));
        assert!(
            !is_card_number_u64(1_700_000_000_000),
            "a millisecond timestamp"
        );
        assert!(!is_card_number_u64(42));
        assert!(!is_card_number_u64(u64::MAX));
    }

    #[test]
    fn luhn_edge_cases() {
        assert!(!luhn_valid(&[]));
        assert!(luhn_valid(&[0]));
        assert!(luhn_valid(&[1, 8]));
        assert!(!luhn_valid(&[1, 9]));
    }
}
