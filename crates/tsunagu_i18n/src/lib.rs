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
            let resource = FluentResource::try_new(lang.source().to_owned())
                .map_err(|(_, errors)| format!("{} locale: {errors:?}", lang.tag()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let font = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/fonts/Mplus2-Medium.otf")).expect("font file");
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
    fn tags_parse() {
        assert_eq!(Language::from_tag("ja_JP.UTF-8"), Some(Language::Japanese));
        assert_eq!(Language::from_tag("en-GB"), Some(Language::English));
        assert_eq!(Language::from_tag("fr"), None);
    }
}
