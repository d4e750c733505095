//! Every text a person reads, from the Fluent files in `assets/locales/{ja,en}`.
//! Japanese is the first language; English is complete too (a test checks both
//! files hold the same keys). The files are compiled in, so text never goes
//! missing because an assets folder was not found.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The languages Tsunagu speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Language {
    /// 日本語, the default.
    #[default]
    Japanese,
    /// English.
    English,
}

impl Language {
    /// All languages, in the order the start screen offers them.
    pub const ALL: [Language; 2] = [Language::Japanese, Language::English];

    /// BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Japanese => "ja",
            Language::English => "en",
        }
    }

    /// Parse a tag such as `ja`, `en-GB` or `ja_JP.UTF-8`.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_', '.']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Language::Japanese),
            "en" => Some(Language::English),
            _ => None,
        }
    }

    fn source(self) -> &'static str {
        match self {
            Language::Japanese => include_str!("../../../assets/locales/ja/main.ftl"),
            Language::English => include_str!("../../../assets/locales/en/main.ftl"),
        }
    }
}

/// WORD JOINER (U+2060): no line break on either side, and nothing drawn.
pub const WORD_JOINER: char = '\u{2060}';

/// Japanese has no spaces, so a line breaker needs a dictionary to find its
/// words; the text shaper here has none and would break between any two kana
/// (「ほかは ふ／つうに」). The locale files put a space between words, as
/// children's books do: this joins the characters between those spaces, so
/// lines break at the spaces (and after 。、！？) and never inside a word.
/// Text without Japanese passes unchanged.
pub fn keep_words_together(text: &str) -> String {
    join_words(text, usize::MAX)
}

/// Like [`keep_words_together`], for text people type (chat): they rarely
/// put spaces between Japanese words, so a run longer than `longest_word`
/// characters gets a break opportunity (ZERO WIDTH SPACE) after each
/// `longest_word` characters; a bubble then wraps instead of overflowing.
pub fn keep_typed_words_together(text: &str, longest_word: usize) -> String {
    join_words(text, longest_word.max(1))
}

fn join_words(text: &str, longest_word: usize) -> String {
    let is_japanese = |c: char| {
        matches!(c as u32,
            0x3040..=0x30FF // hiragana, katakana
            | 0x3400..=0x4DBF | 0x4E00..=0x9FFF // kanji
            | 0x31F0..=0x31FF // katakana extensions
            | 0xFF01..=0xFF60 // full-width forms
        )
    };
    // A line may end after these, as in Japanese typesetting.
    let ends_a_phrase = |c: char| matches!(c, '。' | '、' | '！' | '？' | '）' | '」' | '』' | '…');
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut previous: Option<char> = None;
    let mut run = 0;
    for c in text.chars() {
        if let Some(p) = previous
            && !p.is_whitespace()
            && !c.is_whitespace()
            && (is_japanese(p) || is_japanese(c))
            && !ends_a_phrase(p)
        {
            run += 1;
            out.push(if run % longest_word == 0 { '\u{200B}' } else { WORD_JOINER });
        } else {
            run = 0;
        }
        out.push(c);
        previous = Some(c);
    }
    out
}

/// Loaded bundles for every language.
pub struct Locales {
    bundles: Vec<(Language, FluentBundle<FluentResource>)>,
}

/// An argument value for a message.
pub enum Arg<'a> {
    /// Text.
    Str(&'a str),
    /// A number.
    Num(f64),
}

impl Locales {
    /// Parse the compiled-in locale files. Fails only if a file has a syntax error,
    /// which the tests catch before release.
    pub fn load() -> Result<Locales, String> {
        let mut bundles = Vec::new();
        for lang in Language::ALL {
            let resource = FluentResource::try_new(lang.source().to_owned()).map_err(|(_, errors)| format!("{} locale: {errors:?}", lang.tag()))?;
            let id: LanguageIdentifier = lang.tag().parse().map_err(|e| format!("{e}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Isolation marks around arguments show as boxes in many fonts.
            bundle.set_use_isolating(false);
            bundle.add_resource(resource).map_err(|errors| format!("{} locale: {errors:?}", lang.tag()))?;
            bundles.push((lang, bundle));
        }
        Ok(Locales { bundles })
    }

    /// The text for `key` in `lang`, falling back to Japanese, then to the key
    /// itself so a missing string is visible rather than blank.
    pub fn text(&self, lang: Language, key: &str) -> String {
        self.text_with(lang, key, &[])
    }

    /// As [`Locales::text`], with named arguments.
    pub fn text_with(&self, lang: Language, key: &str, args: &[(&str, Arg)]) -> String {
        keep_words_together(&self.plain_text_with(lang, key, args))
    }

    /// The text as written, without the word joiners that keep it from
    /// breaking inside words: for what is not drawn as a paragraph (a default
    /// nickname goes into a `Hello`, where invisible characters are refused).
    pub fn plain_text_with(&self, lang: Language, key: &str, args: &[(&str, Arg)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Str(s) => FluentValue::from(*s),
                Arg::Num(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        for candidate in [lang, Language::Japanese] {
            if let Some(text) = self.format(candidate, key, &fluent_args) {
                return text;
            }
        }
        key.to_owned()
    }

    fn format(&self, lang: Language, key: &str, args: &FluentArgs) -> Option<String> {
        let bundle = &self.bundles.iter().find(|(l, _)| *l == lang)?.1;
        let pattern = bundle.get_message(key)?.value()?;
        // A missing argument still renders (as `{$name}`): better visible than blank.
        let mut errors = Vec::new();
        Some(bundle.format_pattern(pattern, Some(args), &mut errors).into_owned())
    }

    /// Every message id in `lang`'s file.
    pub fn keys(lang: Language) -> Vec<String> {
        let resource = FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(r, _)| r);
        resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }
}

#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_words_hold_together_and_break_at_spaces_and_after_full_stops() {
        let joined = keep_words_together("ほかは ふつうに。つかえます");
        // Never a break before 。 (it may not start a line); one may follow it.
        assert_eq!(joined, "ほ\u{2060}か\u{2060}は ふ\u{2060}つ\u{2060}う\u{2060}に\u{2060}。つ\u{2060}か\u{2060}え\u{2060}ま\u{2060}す");
        // What a person reads is unchanged.
        assert_eq!(joined.replace(WORD_JOINER, ""), "ほかは ふつうに。つかえます");
        assert_eq!(keep_words_together("Walk: WASD / arrows"), "Walk: WASD / arrows");
        // Every Japanese message comes out joined.
        let locales = Locales::load().unwrap();
        let notice = locales.text(Language::Japanese, "status-no-sound");
        assert!(notice.contains('\u{2060}') && !notice.contains("ふつ"), "{notice}");
        // A name sent to the room has none (the room refuses invisible characters).
        let name = locales.plain_text_with(Language::Japanese, "default-nickname", &[]);
        assert!(!name.contains(WORD_JOINER) && !name.is_empty());
    }

    #[test]
    fn both_languages_parse_and_hold_the_same_keys() {
        let locales = Locales::load().expect("locale files parse");
        let mut ja = Locales::keys(Language::Japanese);
        let mut en = Locales::keys(Language::English);
        ja.sort();
        en.sort();
        assert!(!ja.is_empty());
        assert_eq!(ja, en, "ja and en must hold the same message ids");
        for key in &ja {
            for lang in Language::ALL {
                let text = locales.text(lang, key);
                assert!(!text.trim().is_empty() && text != *key, "{key} in {lang:?} is empty");
            }
        }
    }

    #[test]
    fn japanese_comes_first_and_arguments_fill_in() {
        let locales = Locales::load().unwrap();
        assert_eq!(Language::default(), Language::Japanese);
        let ja = locales.text(Language::Japanese, "start-host");
        assert!(ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)), "{ja}");
        let text = locales.text_with(Language::English, "hud-people", &[("count", Arg::Num(3.0))]);
        assert!(text.contains('3'), "{text}");
        assert_eq!(locales.text(Language::English, "no-such-key"), "no-such-key");
    }

    /// A character the font lacks shows as an empty box: every character of
    /// every message must be in the font the client ships.
    #[test]
    fn the_shipped_font_has_every_character_of_every_message() {
        let font = std::fs::read(format!(
            "{}/../../assets/fonts/Mplus2-Medium.otf",
            std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR, set by cargo")
        ))
        .expect("font file");
        let face = ttf_parser::Face::parse(&font, 0).expect("a font");
        for lang in Language::ALL {
            let resource = FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(r, _)| r);
            for entry in resource.entries() {
                let fluent_syntax::ast::Entry::Message(message) = entry else { continue };
                let Some(pattern) = &message.value else { continue };
                for element in &pattern.elements {
                    let fluent_syntax::ast::PatternElement::TextElement { value } = element else { continue };
                    for c in value.chars().filter(|c| !c.is_whitespace()) {
                        assert!(face.glyph_index(c).is_some(), "{} uses {c:?} (U+{:04X}), which the font lacks", message.id.name, c as u32);
                    }
                }
            }
        }
    }

    #[test]
    fn typed_text_without_spaces_still_wraps() {
        let line = "きょうはたなばたのかざりをつくったよ";
        let joined = keep_typed_words_together(line, 6);
        let pieces: Vec<&str> = joined.split('\u{200B}').collect();
        assert!(pieces.len() >= 3, "{joined:?}");
        assert!(pieces.iter().all(|p| p.chars().filter(|c| *c != WORD_JOINER).count() <= 6));
        assert_eq!(joined.replace(['\u{200B}', WORD_JOINER], ""), line);
        // Short words keep together as before.
        assert_eq!(keep_typed_words_together("また ね", 6), keep_words_together("また ね"));
    }

    #[test]
    fn tags_parse() {
        assert_eq!(Language::from_tag("ja_JP.UTF-8"), Some(Language::Japanese));
        assert_eq!(Language::from_tag("en-GB"), Some(Language::English));
        assert_eq!(Language::from_tag("fr"), None);
    }
}
