//! Names a child can trust. A nickname is shown over an avatar to everyone in
//! the room, so it must be what it looks like: no invisible characters, no
//! direction overrides that reorder what others read, no line breaks, no
//! stacks of combining marks, no private or unassigned characters. One rule,
//! used by the client's start screen and enforced by the server.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

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
/// (Japanese text uses it), no spaces at the ends.
pub fn normalize_chat(text: &str) -> String {
    text.nfc().collect::<String>().trim_matches(|c| c == ' ' || c == '\u{3000}').to_owned()
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

/// The rule behind both: letters, marks (not too many in a row) and digits,
/// plus whatever `also_allowed` lets through; 1 to `max_chars` characters.
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
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number => true,
            _ => also_allowed(c),
        };
        if !allowed {
            return Some(NicknameProblem::NotAllowed(c));
        }
    }
    None
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
        for name in ["ゆき", "  Yuki ", "あおい", "先生", "おためしさん 1", "Hanako-Test", "さくら☆", "けん!", "Zoë", "한글", "محمد", "ナースのみか"] {
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
            ("\u{200b}", NicknameProblem::NotAllowed('\u{200b}')), // zero-width space
            ("ゆき\u{202e}きゆ", NicknameProblem::NotAllowed('\u{202e}')), // right-to-left override
            ("a\u{2028}b", NicknameProblem::NotAllowed('\u{2028}')), // line separator
            ("a\u{2029}b", NicknameProblem::NotAllowed('\u{2029}')), // paragraph separator
            ("a\u{e0041}", NicknameProblem::NotAllowed('\u{e0041}')), // tag character
            ("a\u{200d}b", NicknameProblem::NotAllowed('\u{200d}')), // zero-width joiner
            ("a\u{7}b", NicknameProblem::NotAllowed('\u{7}')),       // control
            ("a\nb", NicknameProblem::NotAllowed('\n')),
            ("a\u{e000}", NicknameProblem::NotAllowed('\u{e000}')), // private use
            ("a\u{0378}", NicknameProblem::NotAllowed('\u{0378}')), // unassigned
            ("a\u{00a0}b", NicknameProblem::NotAllowed('\u{00a0}')), // no-break space
            ("z\u{301}\u{302}\u{303}\u{304}", NicknameProblem::TooManyMarks), // NFC composes the first
            ("😀", NicknameProblem::NotAllowed('😀')),
            ("<b>", NicknameProblem::NotAllowed('<')),
        ];
        for (name, problem) in cases {
            assert_eq!(nickname_problem(name), Some(problem), "{name:?}");
        }
        assert_eq!(nickname_problem(&"あ".repeat(MAX_NICKNAME_CHARS + 1)), Some(NicknameProblem::TooLong));
    }

    #[test]
    fn chat_takes_what_children_write_and_refuses_the_same_tricks() {
        for line in ["ありがとう！", "きょうは 「たなばた」 だね。", "げんき？ ♡", "みて 🌟", "3じに また ね〜", "Hello, world."] {
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
        assert_eq!(chat_problem(&"あ".repeat(MAX_CHAT_CHARS)), None);
        assert_eq!(chat_problem(&"あ".repeat(MAX_CHAT_CHARS + 1)), Some(NicknameProblem::TooLong));
    }
}
