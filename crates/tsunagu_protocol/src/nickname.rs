//! Names a child can trust. A nickname is shown over an avatar to everyone in
//! the room, so it must be what it looks like: no invisible characters, no
//! direction overrides that reorder what others read, no line breaks, no
//! stacks of combining marks, no private or unassigned characters, nothing
//! that shows as blank. One rule, used by the client's start screen and
//! enforced by the server.
//!
//! Two names are compared by their [`nickname_key`]: a room refuses a name
//! that looks like one already there, and a name that looks like a staff word
//! ([`STAFF_WORDS`]) unless it comes with the facilitator invite. Young
//! children read the name, not the badge.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_security::skeleton;

use crate::limits::{MAX_CHAT_CHARS, MAX_NICKNAME_CHARS};

/// Punctuation and symbols allowed besides letters, marks, digits and spaces:
/// what children put in names (ゆき☆, Hana-chan, けん!), nothing that can pose
/// as something else.
pub const NICKNAME_EXTRAS: &str = "-_.・'’!?！？&()（）~～〜☆★♪♡♥";

/// Most combining marks in a row (enough for any real script; "zalgo" text is refused).
pub const MAX_MARKS_IN_A_ROW: usize = 2;

/// Why a nickname (or a chat line) cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NicknameProblem {
    /// Empty after trimming.
    Empty,
    /// More than [`MAX_NICKNAME_CHARS`] characters.
    TooLong,
    /// An invisible, direction-changing, line-breaking, private-use or
    /// unassigned character, or a symbol outside [`NICKNAME_EXTRAS`].
    NotAllowed(char),
    /// A run of combining marks longer than [`MAX_MARKS_IN_A_ROW`].
    TooManyMarks,
}

/// The form a nickname is kept and shown in: NFC, the ideographic space as a
/// plain one, runs of spaces as one, no spaces at the ends.
pub fn normalize_nickname(nickname: &str) -> String {
    let nfc: String = nickname.nfc().map(|c| if c == '\u{3000}' { ' ' } else { c }).collect();
    nfc.split(' ').filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

/// What is wrong with `nickname` as given (it is normalized first), if anything.
pub fn nickname_problem(nickname: &str) -> Option<NicknameProblem> {
    text_problem(&normalize_nickname(nickname), MAX_NICKNAME_CHARS, |c| c == ' ' || NICKNAME_EXTRAS.contains(c))
}

/// The form a chat line is kept and shown in: NFC, the ideographic space kept
/// (Japanese text uses it), no spaces at the ends, and no emoji presentation
/// selectors (U+FE0E, U+FE0F: a phone keyboard adds them to ❤️; they only
/// choose how a symbol is drawn, and are invisible on their own).
pub fn normalize_chat(text: &str) -> String {
    let nfc: String = text.nfc().filter(|c| !matches!(c, '\u{fe0e}' | '\u{fe0f}')).collect();
    nfc.trim_matches(|c| c == ' ' || c == '\u{3000}').to_owned()
}

/// What is wrong with a chat line as given (it is normalized first), if
/// anything. The same rule as nicknames, with all visible punctuation and
/// symbols allowed (a child writes 「ありがとう！」 and ♡ and 🌟): still
/// nothing invisible, nothing that turns the text around, one line.
pub fn chat_problem(text: &str) -> Option<NicknameProblem> {
    text_problem(&normalize_chat(text), MAX_CHAT_CHARS, |c| {
        matches!(c.general_category_group(), GeneralCategoryGroup::Punctuation | GeneralCategoryGroup::Symbol) || c == ' ' || c == '\u{3000}'
    })
}

/// Characters that show as nothing, or as blank space that is not a space:
/// Unicode's default-ignorable code points (the Hangul fillers U+115F,
/// U+1160, U+3164 and U+FFA0, the combining grapheme joiner U+034F, the
/// variation selectors, the Mongolian and Khmer invisibles, zero-width and
/// direction controls, tags) and the blank Braille pattern U+2800. A name or
/// line made of them would look empty, or like someone else's.
const INVISIBLE: &[(char, char)] = &[
    ('\u{ad}', '\u{ad}'),
    ('\u{34f}', '\u{34f}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2060}', '\u{206f}'),
    ('\u{2800}', '\u{2800}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{fff0}', '\u{fff8}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0000}', '\u{e0fff}'),
];

/// Whether `c` shows as nothing (see [`INVISIBLE`]).
pub fn is_invisible(c: char) -> bool {
    INVISIBLE.iter().any(|(first, last)| (*first..=*last).contains(&c))
}

/// The rule behind both: letters, marks (not too many in a row) and digits,
/// plus whatever `also_allowed` lets through; 1 to `max_chars` characters,
/// at least one of them something to see (not only spaces and marks);
/// nothing invisible.
fn text_problem(text: &str, max_chars: usize, also_allowed: impl Fn(char) -> bool) -> Option<NicknameProblem> {
    let count = text.chars().count();
    if count == 0 {
        return Some(NicknameProblem::Empty);
    }
    if count > max_chars {
        return Some(NicknameProblem::TooLong);
    }
    let mut marks = 0;
    for c in text.chars() {
        let group = c.general_category_group();
        marks = if group == GeneralCategoryGroup::Mark { marks + 1 } else { 0 };
        if marks > MAX_MARKS_IN_A_ROW {
            return Some(NicknameProblem::TooManyMarks);
        }
        let allowed = match group {
            _ if is_invisible(c) => false,
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number => true,
            _ => also_allowed(c),
        };
        if !allowed {
            return Some(NicknameProblem::NotAllowed(c));
        }
    }
    let something_to_see = text.chars().any(|c| !matches!(c.general_category_group(), GeneralCategoryGroup::Mark | GeneralCategoryGroup::Separator));
    if !something_to_see {
        return Some(NicknameProblem::Empty);
    }
    None
}

/// Words only facilitators' names may hold (compared by [`nickname_key`], so
/// ｽﾀｯﾌ, ＮＵＲＳＥ, a Cyrillic ѕ or katakana for hiragana change nothing).
/// A participant whose name holds one is refused `NameReserved`.
pub const STAFF_WORDS: &[&str] = &[
    "なーす",
    "すたっふ",
    "せんせい",
    "先生",
    "かんごし",
    "看護",
    "いしゃ",
    "医者",
    "医師",
    "どくたー",
    "かんりしゃ",
    "管理",
    "ぼらんてぃあ",
    "nurse",
    "staff",
    "doctor",
    "teacher",
    "admin",
    "moderator",
    "volunteer",
];

/// The form two nicknames are compared in, so that names that look the same
/// compare the same: NFKC (full- and half-width forms as the plain ones),
/// lower case, katakana as hiragana, then Unicode's confusable skeleton
/// (UTS #39: a Cyrillic а is a Latin a), keeping letters, marks and digits
/// only (spaces and symbols do not tell two names apart). Never shown.
pub fn nickname_key(nickname: &str) -> String {
    let folded: String = nickname.nfkc().flat_map(char::to_lowercase).map(katakana_as_hiragana).collect();
    skeleton(&folded)
        .flat_map(char::to_lowercase)
        .map(katakana_as_hiragana)
        .filter(|c| matches!(c.general_category_group(), GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number))
        .collect()
}

/// Whether `nickname` holds a staff word (see [`STAFF_WORDS`]).
pub fn has_staff_word(nickname: &str) -> bool {
    // The words' own keys, made once rather than at every join.
    static KEYS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| STAFF_WORDS.iter().map(|word| nickname_key(word)).collect());
    let key = nickname_key(nickname);
    keys.iter().any(|word| key.contains(word.as_str()))
}

/// ア → あ: the same sound read the same by a child.
fn katakana_as_hiragana(c: char) -> char {
    match c {
        '\u{30a1}'..='\u{30f6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Nickname rule shared by the client UI and the server.
pub fn nickname_is_valid(nickname: &str) -> bool {
    nickname_problem(nickname).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_children_use_are_fine() {
        for name in [
            "ゆき",
            "  Yuki ",
            "あおい",
            "先生",
            "おためしさん 1",
            "Hanako-Test",
            "さくら☆",
            "けん!",
            "Zoë",
            "한글",
            "محمد",
            "ナースのみか",
            "ガ",
            "Ze\u{301}\u{302}",
        ] {
            assert_eq!(nickname_problem(name), None, "{name:?} was refused");
        }
        assert_eq!(normalize_nickname("  ゆき\u{3000}\u{3000}ちゃん "), "ゆき ちゃん");
        // Decomposed é (e + combining acute) is kept as the one character.
        assert_eq!(normalize_nickname("Ze\u{301}"), "Zé");
    }

    #[test]
    fn every_trick_is_refused_with_a_reason() {
        let cases = [
            ("   ", NicknameProblem::Empty),
            ("\u{200b}", NicknameProblem::NotAllowed('\u{200b}')),         // zero-width space
            ("ゆき\u{202e}きゆ", NicknameProblem::NotAllowed('\u{202e}')), // right-to-left override
            ("a\u{2028}b", NicknameProblem::NotAllowed('\u{2028}')),       // line separator
            ("a\u{2029}b", NicknameProblem::NotAllowed('\u{2029}')),       // paragraph separator
            ("a\u{e0041}", NicknameProblem::NotAllowed('\u{e0041}')),      // tag character
            ("a\u{200d}b", NicknameProblem::NotAllowed('\u{200d}')),       // zero-width joiner
            ("a\u{7}b", NicknameProblem::NotAllowed('\u{7}')),             // control
            ("a\nb", NicknameProblem::NotAllowed('\n')),
            ("a\u{e000}", NicknameProblem::NotAllowed('\u{e000}')),           // private use
            ("a\u{0378}", NicknameProblem::NotAllowed('\u{0378}')),           // unassigned
            ("a\u{00a0}b", NicknameProblem::NotAllowed('\u{00a0}')),          // no-break space
            ("z\u{301}\u{302}\u{303}\u{304}", NicknameProblem::TooManyMarks), // NFC composes the first
            ("😀", NicknameProblem::NotAllowed('😀')),
            ("<b>", NicknameProblem::NotAllowed('<')),
            // Fillers and blanks that render as nothing, alone or beside a name.
            ("\u{3164}", NicknameProblem::NotAllowed('\u{3164}')),
            ("ゆき\u{ffa0}", NicknameProblem::NotAllowed('\u{ffa0}')),
            ("a\u{34f}", NicknameProblem::NotAllowed('\u{34f}')),
            ("\u{2800}\u{2800}", NicknameProblem::NotAllowed('\u{2800}')),
            ("\u{115f}", NicknameProblem::NotAllowed('\u{115f}')),
            ("a\u{fe0f}", NicknameProblem::NotAllowed('\u{fe0f}')),
            ("\u{301}", NicknameProblem::Empty),
        ];
        for (name, problem) in cases {
            assert_eq!(nickname_problem(name), Some(problem), "{name:?}");
        }
        assert_eq!(nickname_problem(&"あ".repeat(MAX_NICKNAME_CHARS + 1)), Some(NicknameProblem::TooLong));
    }

    #[test]
    fn chat_takes_what_children_write_and_refuses_the_same_tricks() {
        for line in ["ありがとう！", "きょうは 「たなばた」 だね。", "げんき？ ♡", "みて 🌟", "3じに また ね〜", "Hello, world."]
        {
            assert_eq!(chat_problem(line), None, "{line:?} was refused");
        }
        assert_eq!(normalize_chat("\u{3000} やあ  "), "やあ");
        for (line, problem) in [
            ("  ", NicknameProblem::Empty),
            ("a\u{202e}b", NicknameProblem::NotAllowed('\u{202e}')),
            ("a\u{200b}b", NicknameProblem::NotAllowed('\u{200b}')),
            ("a\nb", NicknameProblem::NotAllowed('\n')),
            ("a\u{2028}b", NicknameProblem::NotAllowed('\u{2028}')),
            ("a\u{e000}", NicknameProblem::NotAllowed('\u{e000}')),
        ] {
            assert_eq!(chat_problem(line), Some(problem), "{line:?}");
        }
        for blank in ["\u{3164}", "\u{2800}", "\u{ffa0}\u{ffa0}", "\u{34f}", "\u{3000}\u{2800}\u{3000}"] {
            assert!(chat_problem(blank).is_some(), "{blank:?} (blank) was taken");
        }
        assert_eq!(normalize_chat("すき\u{2764}\u{fe0f}"), "すき\u{2764}", "the emoji selector is dropped, the heart kept");
        assert_eq!(chat_problem(&"あ".repeat(MAX_CHAT_CHARS)), None);
        assert_eq!(chat_problem(&"あ".repeat(MAX_CHAT_CHARS + 1)), Some(NicknameProblem::TooLong));
    }

    #[test]
    fn names_that_look_the_same_compare_the_same() {
        let same = [
            ("さくら", "サクラ"),
            ("スタッフ", "ｽﾀｯﾌ"),
            ("Nurse", "ＮＵＲＳＥ"),
            ("nurse", "nur\u{0455}e"), // Cyrillic dze for s
            ("Yuki", "yuki"),
            ("ゆき ちゃん", "ゆきちゃん"),
            ("ゆき☆", "ゆき"),
            ("Zoë", "Zoe\u{308}"),
        ];
        for (a, b) in same {
            assert_eq!(nickname_key(a), nickname_key(b), "{a:?} and {b:?}");
        }
        for (a, b) in [("ゆき", "ゆみ"), ("かな", "がな"), ("Ren", "Ken")] {
            assert_ne!(nickname_key(a), nickname_key(b), "{a:?} and {b:?} are different names");
        }
    }

    #[test]
    fn staff_words_are_found_however_they_are_written() {
        for name in [
            "ナース",
            "ナースのみか",
            "ｽﾀｯﾌ",
            "スタッフ",
            "先生",
            "やまだせんせい",
            "かんごし",
            "看護師さん",
            "Nurse",
            "NURSE Amy",
            "nur\u{0455}e",
            "ＳＴＡＦＦ",
            "Dr Doctor",
            "ドクター",
        ] {
            assert!(has_staff_word(name), "{name:?} passed as a child's name");
        }
        for name in ["ゆき", "さくら", "Hanako-Test", "おためしさん 1", "あおい", "Ren"] {
            assert!(!has_staff_word(name), "{name:?} was taken for a staff word");
        }
    }
}
