//! The blocking API (Model): loading, predictions, batches, routing, features, and every error.
mod common;

use common::{model_path, oversized_text, tiny, Scratch, UNKNOWN_TEXT};
use fastintent::{Code, Kind, Model, Precision, Priority};

#[test]
fn loads_and_describes_the_model() {
    let m = tiny();
    assert_eq!(m.labels(), ["alarm", "music", "weather"]);
    assert_eq!(m.label_index("music"), Some(1));
    assert_eq!(m.label_index("nope"), None);
    assert_eq!(m.kind(), Kind::Softmax);
    assert_eq!(m.precision(), Precision::Float32);
    assert!((0.0..=1.0).contains(&m.threshold()), "{}", m.threshold());
    assert!(m.feature_count() > 0);
    assert_eq!(m.component_count(), 3);
    assert!(m.metadata().contains("\"components\""), "{}", m.metadata());
    let plain = Model::load(model_path("tiny_plain.fim")).unwrap();
    assert_eq!(plain.component_count(), 0);
    assert_eq!(plain.metadata(), "");
}

#[test]
fn predicts_the_keyword_class() {
    let m = tiny();
    for (text, label) in [
        ("play some music", "music"),
        ("will it rain tomorrow", "weather"),
        ("wake me up alarm", "alarm"),
    ] {
        let top = m.predict_with(text, 1, Some(0.0)).unwrap();
        assert_eq!(top.len(), 1, "{text}");
        assert_eq!(top[0].name, label, "{text}");
        assert_eq!(top[0].index as usize, m.label_index(label).unwrap());
    }
    // Strings, byte slices and owned strings are all texts.
    let owned = String::from("play some music");
    assert_eq!(m.predict_with(&owned, 1, Some(0.0)).unwrap()[0].name, "music");
    assert_eq!(m.predict_with(b"play some music", 1, Some(0.0)).unwrap()[0].name, "music");
}

#[test]
fn top_k_is_sorted_and_agrees_with_probabilities() {
    let m = tiny();
    let probs = m.probabilities("play some music").unwrap();
    assert_eq!(probs.len(), 3);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{probs:?}");
    let all = m.predict_with("play some music", 3, Some(0.0)).unwrap();
    assert_eq!(all.len(), 3);
    for w in all.windows(2) {
        assert!(w[0].prob >= w[1].prob);
    }
    for l in &all {
        assert_eq!(l.prob, probs[l.index as usize]);
    }
    // k above the label count reports every label, once.
    assert_eq!(m.predict_with("play some music", 50, Some(0.0)).unwrap().len(), 3);
}

#[test]
fn rejects_below_the_threshold() {
    let m = tiny();
    let top = m.predict_with("play some music", 1, Some(0.0)).unwrap()[0].prob;
    assert!(top < 1.0);
    // Softmax: at the threshold the top k are reported; just above it, none (a rejection).
    assert_eq!(m.predict_with("play some music", 3, Some(top)).unwrap().len(), 3);
    let above = top + f32::EPSILON.max(top * f32::EPSILON);
    assert!(m.predict_with("play some music", 3, Some(above)).unwrap().is_empty());
    // The calibrated threshold is what `predict` applies.
    let calibrated = m.predict("play some music").unwrap();
    assert_eq!(calibrated.is_empty(), top < m.threshold());
}

#[test]
fn malformed_utf8_is_classified_like_its_replacement() {
    let m = tiny();
    let bad = m.probabilities(b"play some music \xff\xfe\xc3").unwrap();
    let fixed = m.probabilities("play some music \u{FFFD}\u{FFFD}\u{FFFD}").unwrap();
    assert_eq!(bad, fixed);
}

#[test]
fn missing_file_is_not_found() {
    let e = Model::load("/no/such/dir/model.fim").unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(e.message().contains("/no/such/dir/model.fim"), "{e}");
    assert!(e.to_string().starts_with("not found: "), "{e}");
}

#[test]
fn corrupt_and_truncated_models_are_data_loss() {
    let scratch = Scratch::new("corrupt");
    let bytes = std::fs::read(model_path("tiny.fim")).unwrap();
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x40;
    let path = scratch.0.join("flipped.fim");
    std::fs::write(&path, &flipped).unwrap();
    let e = Model::load(&path).unwrap_err();
    assert_eq!(e.code(), Code::DataLoss, "{e}");
    assert!(e.message().contains("flipped.fim"), "{e}");

    for cut in [0, 4, 16, bytes.len() / 3, bytes.len() - 1] {
        let e = Model::from_bytes_named(&bytes[..cut], "cut").unwrap_err();
        assert_eq!(e.code(), Code::DataLoss, "cut at {cut}: {e}");
        assert!(e.message().contains("cut"), "{e}");
    }
    let e = Model::from_bytes(b"not a model at all").unwrap_err();
    assert_eq!(e.code(), Code::DataLoss, "{e}");
    // The intact bytes load, from memory as from the file.
    let m = Model::from_bytes(&bytes).unwrap();
    assert_eq!(m.labels(), ["alarm", "music", "weather"]);
}

#[test]
fn a_path_with_nul_is_refused() {
    let e = Model::load("tiny\0.fim").unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e}");
}

#[test]
fn empty_and_unknown_texts_are_invalid_arguments() {
    let m = tiny();
    let e = m.predict("").unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("empty"), "{e}");
    let e = m.predict(UNKNOWN_TEXT).unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("no known"), "{e}");
    assert_eq!(m.probabilities("").unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(m.route("", None).unwrap_err().code(), Code::InvalidArgument);
}

#[test]
fn text_over_the_size_limit_is_refused() {
    let m = tiny();
    let huge = oversized_text();
    let e = m.predict(&huge).unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("too long"), "{e}");
    assert_eq!(m.featurize(&huge).unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(m.probabilities(&huge).unwrap_err().code(), Code::InvalidArgument);
    // At the limit exactly, the text is classified.
    assert!(m.predict_with(&huge[..fastintent::MAX_TEXT_BYTES], 1, Some(0.0)).is_ok());
}

#[test]
fn bad_k_and_thresholds_are_invalid_arguments() {
    let m = tiny();
    let e = m.predict_with("music", 0, None).unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("k must"), "{e}");
    for t in [1.5, -0.5, f32::NAN] {
        let e = m.predict_with("music", 1, Some(t)).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "threshold {t}");
        assert!(e.message().contains("threshold"), "{e}");
        assert_eq!(m.route("music", Some(t)).unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(
            m.predict_batch_with(&["music"], 1, Some(t)).unwrap_err().code(),
            Code::InvalidArgument
        );
    }
    assert_eq!(
        m.predict_batch_with(&["music"], 0, None).unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[test]
fn batch_matches_single_predictions_and_isolates_failures() {
    let m = tiny();
    let texts =
        ["play some music", "will it rain", "", "wake me up alarm", UNKNOWN_TEXT, "snow forecast"];
    let batch = m.predict_batch_with(&texts, 2, Some(0.0)).unwrap();
    assert_eq!(batch.len(), texts.len());
    for (text, row) in texts.iter().zip(&batch) {
        match m.predict_with(text, 2, Some(0.0)) {
            Ok(single) => assert_eq!(row.as_ref().unwrap(), &single, "{text}"),
            Err(e) => assert_eq!(row.as_ref().unwrap_err().code(), e.code(), "{text}"),
        }
    }
    assert_eq!(batch[2].as_ref().unwrap_err().code(), Code::InvalidArgument);
    assert!(batch[2].as_ref().unwrap_err().message().contains("text 2"));
    assert!(m.predict_batch::<&str>(&[]).unwrap().is_empty());
    // Owned strings work too, and the default is top-1 with the calibrated threshold.
    let owned: Vec<String> = vec!["play some music".into()];
    assert_eq!(
        m.predict_batch(&owned).unwrap()[0].as_ref().unwrap(),
        &m.predict("play some music").unwrap()
    );
}

#[test]
fn routes_with_dependencies_by_priority() {
    let m = tiny();
    let r = m.route("will it rain tomorrow", Some(0.0)).unwrap();
    assert_eq!(r.components.len(), 2);
    assert_eq!(r.total_memory_mb, 15);
    let (alarm, weather) = (&r.components[0], &r.components[1]);
    assert_eq!(
        (alarm.name.as_str(), alarm.priority, alarm.dependency, alarm.memory_mb, alarm.index),
        ("alarm", Priority::Core, true, 5, 2)
    );
    assert_eq!(
        (weather.name.as_str(), weather.priority, weather.dependency, weather.load_ms),
        ("weather", Priority::High, false, 1)
    );
    assert!(weather.confidence > 1.0 / 3.0);
    let music = m.route("play some music", Some(0.0)).unwrap();
    assert_eq!(music.components.len(), 1);
    assert_eq!(
        (music.components[0].name.as_str(), music.components[0].priority),
        ("music", Priority::Low)
    );

    let e =
        Model::load(model_path("tiny_plain.fim")).unwrap().route("will it rain", None).unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
}

#[test]
fn featurizes_into_sparse_pairs() {
    let m = tiny();
    let f = m.featurize("play some music").unwrap();
    assert!(!f.indices.is_empty());
    assert_eq!(f.indices.len(), f.weights.len());
    assert!(f.indices.iter().all(|&i| (i as usize) < m.feature_count()));
    assert!(f.weights.iter().all(|w| w.is_finite()));
    assert!(m.featurize(UNKNOWN_TEXT).unwrap().indices.is_empty());
    assert!(m.featurize("").unwrap().indices.is_empty());
    // A long text needs more pairs than the first guess: the buffer grows.
    let long: String = (0..400).map(|i| format!("music{i} ")).collect();
    let f = m.featurize(&long).unwrap();
    assert_eq!(f.indices.len(), f.weights.len());
    assert!(f.indices.len() > 16);
}

#[test]
fn quantizes_serializes_and_saves() {
    let m = tiny();
    let q = m.quantize().unwrap();
    assert_eq!(q.precision(), Precision::Int8);
    assert_eq!(q.labels(), m.labels());
    assert_eq!(q.predict_with("play some music", 1, Some(0.0)).unwrap()[0].name, "music");

    let bytes = m.to_bytes().unwrap();
    assert_eq!(bytes, std::fs::read(model_path("tiny.fim")).unwrap());
    let scratch = Scratch::new("save");
    let path = scratch.0.join("int8.fim");
    q.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    assert_eq!(back.precision(), Precision::Int8);
    assert_eq!(
        back.probabilities("will it rain").unwrap(),
        q.probabilities("will it rain").unwrap()
    );
    let e = q.save(scratch.0.join("no/such/dir/x.fim")).unwrap_err();
    assert!(matches!(e.code(), Code::IoError | Code::NotFound), "{e}");
}

#[test]
fn one_model_serves_many_threads() {
    let m = tiny();
    let expected = m.probabilities("will it rain tomorrow").unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..2000 {
                    assert_eq!(m.probabilities("will it rain tomorrow").unwrap(), expected);
                    assert_eq!(
                        m.predict_with("play some music", 1, Some(0.0)).unwrap()[0].name,
                        "music"
                    );
                }
            });
        }
    });
}
