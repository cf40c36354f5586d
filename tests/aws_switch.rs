//! Switching region and profile without restarting, against moto, with the profiles read from
//! an AWS config file as an operator's would be. Its own test binary: it points
//! `AWS_CONFIG_FILE` at a temporary file for the whole process.

// set_var is unsafe since edition 2024: the environment is set before any thread exists.
#![allow(unsafe_code)]

mod support;

use ecsmon::launch;
use ecsmon::source::aws::AwsSettings;
use ecsmon::state::Popup;
use ecsmon::testkit::Harness;
use support::{FleetSpec, Moto, sdk_config_in, seed};

#[test]
fn region_and_profile_switch_without_a_restart() {
    let moto = Moto::start();
    let dir = std::env::temp_dir().join(format!("ecsmon-switch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_file = dir.join("config");
    let endpoint = &moto.endpoint;
    std::fs::write(
        &config_file,
        format!(
            "[profile alpha]\nregion = us-east-1\nendpoint_url = {endpoint}\n\
             aws_access_key_id = test\naws_secret_access_key = test\n\n\
             [profile beta]\nregion = eu-west-3\nendpoint_url = {endpoint}\n\
             aws_access_key_id = test\naws_secret_access_key = test\n"
        ),
    )
    .unwrap();
    // SAFETY: set before any other thread of this test binary exists (one test, no runtime yet).
    unsafe {
        for var in support::AWS_ENV_VARS {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_CONFIG_FILE", &config_file);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        seed(
            &sdk_config_in(endpoint, "us-east-1").await,
            &FleetSpec::new("east-fleet", 1, 1, 1),
        )
        .await;
        seed(
            &sdk_config_in(endpoint, "eu-west-3").await,
            &FleetSpec::new("paris-fleet", 1, 1, 1),
        )
        .await;

        let alpha = AwsSettings {
            profile: Some("alpha".into()),
            ..AwsSettings::default()
        };
        let source = launch::aws_source(alpha.clone()).await;
        let mut h = Harness::with_source(source, Some(alpha), 140, 36);
        let frame = h.render();
        assert!(
            frame.contains("profile alpha") && frame.contains("region us-east-1"),
            "{frame}"
        );
        assert!(
            frame.contains("east-fleet") && !frame.contains("paris-fleet"),
            "{frame}"
        );

        // :profile lists the profiles of the config file; j enter picks beta.
        h.press(":profile<enter>");
        let Some(Popup::Picker { items, .. }) = h.state.popups.last() else {
            panic!("no profile picker: {}", h.render());
        };
        assert_eq!(items, &["alpha".to_string(), "beta".to_string()]);
        h.press("j<enter>");
        let frame = h.render();
        assert!(
            frame.contains("profile beta") && frame.contains("region eu-west-3"),
            "{frame}"
        );
        assert!(
            frame.contains("paris-fleet") && !frame.contains("east-fleet"),
            "{frame}"
        );

        // :region switches the region and keeps the profile.
        h.press(":region us-east-1<enter>");
        let frame = h.render();
        assert!(
            frame.contains("profile beta") && frame.contains("region us-east-1"),
            "{frame}"
        );
        assert!(frame.contains("east-fleet"), "{frame}");

        // The picker starts on the current region; a bad name is refused in words.
        h.press(":region<enter>");
        let Some(Popup::Picker {
            items, selected, ..
        }) = h.state.popups.last()
        else {
            panic!("no region picker");
        };
        assert_eq!(items[*selected], "us-east-1");
        h.press("<esc>:region Paris<enter>");
        let status = h.state.status.clone().unwrap();
        assert!(
            status.text.contains("'Paris' is not a region name"),
            "{}",
            status.text
        );
        assert!(h.render().contains("east-fleet"), "nothing lost");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
