//! The compiled rule set and the scan of one string: a cheap prefilter picks
//! the rules worth running, each runs its compiled pattern, overlapping
//! matches are merged, and each merged span becomes `[REDACTED]`.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::{CaptureLocations, Regex};

use super::keys::KeyMatcher;
use super::report::SanitizeReport;
use super::rules::{self, Check, RuleDef, Trigger};

/// What replaces each secret.
pub const REDACTED: &str = "[REDACTED]";

/// A compiled value rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) name: Cow<'static, str>,
    regex: Regex,
    groups: Vec<usize>,
    check: Check,
}

impl Rule {
    pub(crate) fn builtin(def: &RuleDef) -> Result<Rule, regex::Error> {
        let pattern = def.pattern.replace(r"\b", r"(?-u:\b)");
        Ok(Rule {
            name: Cow::Borrowed(def.name),
            regex: Regex::new(&pattern)?,
            groups: def.groups.to_vec(),
            check: def.check,
        })
    }

    /// A user rule: the whole match is redacted, or only the group named
    /// `secret` when the pattern has one.
    pub(crate) fn user(name: String, regex: Regex) -> Rule {
        let groups = regex
            .capture_names()
            .position(|n| n == Some("secret"))
            .into_iter()
            .collect();
        Rule {
            name: Cow::Owned(name),
            regex,
            groups,
            check: Check::None,
        }
    }

    pub(crate) fn matches_empty(&self) -> bool {
        self.regex.is_match("")
    }
}

/// Prefilter bit set when the text contains a stem of a secret key name
/// (see [`keys::STEMS`](super::keys::STEMS)) or of an extra key name.
const VOCAB_BIT: u64 = 1 << 63;
/// Rules past this index skip the prefilter and always run.
const FILTERED_RULES: usize = 63;

/// A span to redact, found by rule `rule`.
#[derive(Clone, Copy, Debug)]
struct Hit {
    start: usize,
    end: usize,
    rule: usize,
}

/// All rules, compiled once, with their prefilter.
#[derive(Debug)]
pub(crate) struct Engine {
    rules: Vec<Rule>,
    /// Rules that use the keyword prefilter or digits, as bit masks over
    /// `rules` (only the first 63 rules are filtered; the rest always run).
    keywords: Option<AhoCorasick>,
    keyword_masks: Vec<u64>,
    digit_rules: Vec<(usize, u64)>,
    min_digits: usize,
    always: Vec<usize>,
    /// Rules that need an `=` or `:` in the text.
    assignment_mask: u64,
    pub(crate) keys: KeyMatcher,
}

impl Engine {
    /// `triggers[i]` is the trigger of `rules[i]`.
    pub(crate) fn new(
        rules: Vec<Rule>,
        triggers: Vec<Trigger>,
        keys: KeyMatcher,
    ) -> Result<Engine, aho_corasick::BuildError> {
        let mut words: Vec<String> = Vec::new();
        let mut keyword_masks: Vec<u64> = Vec::new();
        let mut digit_rules = Vec::new();
        let mut always = Vec::new();
        let mut assignment_mask = 0u64;
        let mut add_word = |word: &str, bit: u64| {
            let word = word.to_ascii_lowercase();
            if word.is_empty() {
                return;
            }
            if let Some(i) = words.iter().position(|w| *w == word) {
                keyword_masks[i] |= bit;
            } else {
                words.push(word);
                keyword_masks.push(bit);
            }
        };
        for (i, (rule, trigger)) in rules.iter().zip(&triggers).enumerate() {
            if i >= FILTERED_RULES {
                always.push(i);
                continue;
            }
            let bit = 1u64 << i;
            match trigger {
                Trigger::Keywords(list) => {
                    for word in *list {
                        add_word(word, bit);
                    }
                    if rule.check == Check::Assignment {
                        assignment_mask |= bit;
                        for extra in keys.extra() {
                            add_word(extra.joined(), bit);
                            add_word(extra.longest_word(), bit);
                        }
                    }
                }
                Trigger::Digits(n) => digit_rules.push((*n, bit)),
                Trigger::Always => always.push(i),
            }
        }
        for stem in super::keys::STEMS {
            add_word(stem, VOCAB_BIT);
        }
        for extra in keys.extra() {
            add_word(extra.joined(), VOCAB_BIT);
            add_word(extra.longest_word(), VOCAB_BIT);
        }
        // A keyword that starts with another one also triggers that one's
        // rules: the search reports only the longest keyword at a position.
        let closed: Vec<u64> = words
            .iter()
            .map(|w| {
                words
                    .iter()
                    .zip(&keyword_masks)
                    .filter(|(other, _)| w.starts_with(other.as_str()))
                    .fold(0, |mask, (_, m)| mask | m)
            })
            .collect();
        let keyword_masks = closed;
        let min_digits = digit_rules
            .iter()
            .map(|&(n, _)| n)
            .min()
            .unwrap_or(usize::MAX);
        let keywords = if words.is_empty() {
            None
        } else {
            let mut builder = AhoCorasickBuilder::new();
            builder
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest);
            // A DFA even past the 100 patterns where the automatic choice
            // falls back to a slower NFA (twice the cost on clean text);
            // the automatic choice if the DFA cannot be built.
            let dfa = builder
                .clone()
                .kind(Some(AhoCorasickKind::DFA))
                .build(&words);
            Some(match dfa {
                Ok(ac) => ac,
                Err(_) => builder.build(&words)?,
            })
        };
        Ok(Engine {
            rules,
            keywords,
            keyword_masks,
            digit_rules,
            min_digits,
            always,
            assignment_mask,
            keys,
        })
    }

    /// The rules (among the first 63) worth running on `text`, plus
    /// [`VOCAB_BIT`].
    fn prefilter(&self, text: &str) -> u64 {
        let mut mask = 0u64;
        if let Some(ac) = &self.keywords {
            // Restart one byte after each match so that keywords that
            // overlap an earlier one (`...asiAIza...`) are still seen.
            let mut at = 0;
            while at < text.len() {
                let input = aho_corasick::Input::new(text).range(at..);
                let Some(m) = ac.find(input) else { break };
                mask |= self.keyword_masks[m.pattern().as_usize()];
                at = m.start() + 1;
            }
        }
        // An assignment needs an operator: `=`, `:`, `>` (XML), `--` (a
        // command-line flag), or a bracket and a comma (call arguments).
        if mask & self.assignment_mask != 0 && !has_assignment_operator(text.as_bytes()) {
            mask &= !self.assignment_mask;
        }
        if !self.digit_rules.is_empty()
            && text.bytes().filter(u8::is_ascii_digit).count() >= self.min_digits
        {
            let run = rules::longest_digit_run(text.as_bytes());
            for &(min, bit) in &self.digit_rules {
                if run >= min {
                    mask |= bit;
                }
            }
        }
        mask
    }

    /// `text` with every match of every rule replaced by [`REDACTED`];
    /// borrowed when nothing matched.
    pub(crate) fn scan<'a>(&self, text: &'a str, report: &mut SanitizeReport) -> Cow<'a, str> {
        if text.len() < 4 {
            return Cow::Borrowed(text);
        }
        let mask = self.prefilter(text);
        self.scan_masked(text, mask, report)
    }

    /// Scans an object key; also says whether the key may name a secret
    /// (it contains a stem of the vocabulary or of an extra key name).
    pub(crate) fn scan_key<'a>(
        &self,
        key: &'a str,
        report: &mut SanitizeReport,
    ) -> (Cow<'a, str>, bool) {
        let mask = self.prefilter(key);
        (self.scan_masked(key, mask, report), mask & VOCAB_BIT != 0)
    }

    fn scan_masked<'a>(
        &self,
        text: &'a str,
        mask: u64,
        report: &mut SanitizeReport,
    ) -> Cow<'a, str> {
        let mut bits = mask & !VOCAB_BIT;
        if (bits == 0 && self.always.is_empty()) || text.len() < 4 {
            return Cow::Borrowed(text);
        }
        let mut hits = Vec::new();
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.collect(i, text, &mut hits);
        }
        for &i in &self.always {
            self.collect(i, text, &mut hits);
        }
        if hits.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.replace(text, hits, report))
    }

    /// Pushes the accepted matches of rule `i` in `text`.
    fn collect(&self, i: usize, text: &str, hits: &mut Vec<Hit>) {
        let rule = &self.rules[i];
        let mut push = |start: usize, end: usize| {
            if end > start {
                hits.push(Hit {
                    start,
                    end,
                    rule: i,
                });
            }
        };
        match rule.check {
            Check::Assignment => {
                let keys = &self.keys;
                let is_secret = |key: &str| keys.is_sensitive_assignment(key);
                rules::assign::collect(&rule.regex, text, &is_secret, &mut push);
            }
            Check::SecretBlock => rules::yaml::collect(&rule.regex, text, &mut push),
            _ if rule.groups.is_empty() => collect_whole(rule, text, &mut push),
            _ => collect_groups(rule, text, &mut push),
        }
    }

    /// Merges overlapping hits (the earliest, then longest, names the
    /// span) and writes the text with each span replaced.
    fn replace(&self, text: &str, mut hits: Vec<Hit>, report: &mut SanitizeReport) -> String {
        hits.sort_unstable_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then(b.end.cmp(&a.end))
                .then(a.rule.cmp(&b.rule))
        });
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut current: Option<Hit> = None;
        let mut flush = |hit: Hit, out: &mut String, copied: &mut usize| {
            out.push_str(&text[*copied..hit.start]);
            out.push_str(REDACTED);
            *copied = hit.end;
            report.add(&self.rules[hit.rule].name, 1);
        };
        for hit in hits {
            match &mut current {
                Some(cur) if hit.start < cur.end => cur.end = cur.end.max(hit.end),
                Some(cur) => {
                    let done = *cur;
                    current = Some(hit);
                    flush(done, &mut out, &mut copied);
                }
                None => current = Some(hit),
            }
        }
        if let Some(cur) = current {
            flush(cur, &mut out, &mut copied);
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// Whether `text` holds something an assignment needs between its key and
/// its value (see [`rules::assign::HEAD`]).
fn has_assignment_operator(text: &[u8]) -> bool {
    let (mut bracket, mut comma, mut prev) = (false, false, 0u8);
    for &b in text {
        match b {
            b'=' | b':' | b'>' => return true,
            b'-' if prev == b'-' => return true,
            b'(' | b'{' => bracket = true,
            b',' => comma = true,
            _ => {}
        }
        prev = b;
    }
    bracket && comma
}

/// The accepted whole matches of `rule`; a card or phone candidate that
/// fails as a whole may still hold a number.
fn collect_whole(rule: &Rule, text: &str, push: &mut dyn FnMut(usize, usize)) {
    for m in rule.regex.find_iter(text) {
        if rules::passes(rule.check, text, m.start(), m.end()) {
            push(m.start(), m.end());
        } else if let Some((start, end)) = match rule.check {
            Check::Card => rules::card_within(text, m.start(), m.end()),
            Check::Phone => rules::phone_within(text, m.start(), m.end()),
            _ => None,
        } {
            push(start, end);
        }
    }
}

/// The accepted matches of `rule`'s first participating group.
fn collect_groups(rule: &Rule, text: &str, push: &mut dyn FnMut(usize, usize)) {
    let mut locs: CaptureLocations = rule.regex.capture_locations();
    let mut pos = 0;
    while pos < text.len() {
        let Some(m) = rule.regex.captures_read_at(&mut locs, text, pos) else {
            break;
        };
        if let Some((start, end)) = rule.groups.iter().find_map(|&g| locs.get(g))
            && end > start
            && rules::passes(rule.check, text, start, end)
        {
            push(start, end);
        }
        pos = if m.end() > m.start() {
            m.end()
        } else {
            next_char(text, m.end())
        };
    }
}

/// The index just past the character at `at` (one past the end at the
/// end).
pub(crate) fn next_char(text: &str, at: usize) -> usize {
    text[at..]
        .chars()
        .next()
        .map_or(text.len() + 1, |c| at + c.len_utf8())
}
