//! Provisioning from `template.yaml`: what the local stack creates is what the template says.

use aws_sdk_sqs::types::QueueAttributeName;
use hookline_tests::Stack;
use std::collections::BTreeSet;

#[tokio::test]
async fn when_provisioned_should_create_the_table_with_index_and_ttl() {
    let stack = Stack::new().await;
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let table = stack.context.settings.table_name.clone();
    let described = client.describe_table().table_name(&table).send().await.expect("describe");
    let description = described.table.expect("table");
    let indexes: Vec<String> = description
        .global_secondary_indexes()
        .iter()
        .filter_map(|index| index.index_name().map(String::from))
        .collect();
    assert_eq!(indexes, ["gsi1"]);
    let ttl = client.describe_time_to_live().table_name(&table).send().await.expect("ttl");
    assert_eq!(ttl.time_to_live_description.and_then(|ttl| ttl.attribute_name), Some("expires_at".into()));
}

#[tokio::test]
async fn when_provisioned_should_redrive_the_delivery_queue_to_its_dlq() {
    let stack = Stack::new().await;
    let client = aws_sdk_sqs::Client::new(&stack.sdk);
    let attributes = client
        .get_queue_attributes()
        .queue_url(stack.queue_url("DeliveryQueue"))
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("attributes")
        .attributes
        .expect("some");
    let policy: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).expect("policy json");
    let dlq_arn = match stack.provisioned.resources.get("DeliveryDeadLetterQueue") {
        Some(hookline_local_runner::provision::Physical::Queue { arn, .. }) => arn.clone(),
        other => panic!("no dlq: {other:?}"),
    };
    assert_eq!(policy["deadLetterTargetArn"], dlq_arn);
    assert_eq!(policy["maxReceiveCount"].to_string().trim_matches('"'), "5");
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "360");
}

#[tokio::test]
async fn when_environment_resolved_should_point_every_function_at_the_stack() {
    let stack = Stack::new().await;
    let template = hookline_tests::template();
    for function in template.functions() {
        let settings = stack.provisioned.settings(&template, &function).expect("settings");
        assert_eq!(settings.table_name, stack.context.settings.table_name, "{function}");
        assert_eq!(settings.delivery_queue_url, stack.queue_url("DeliveryQueue"), "{function}");
        assert_eq!(settings.retention_days, 30, "{function}: the parameter's default");
    }
}

#[tokio::test]
async fn when_template_has_alarms_and_a_conditional_topic_should_provision_only_tables_and_queues() {
    let template = hookline_tests::template();
    assert_eq!(template.resource_type("DeadLetterQueueAlarm"), Some("AWS::CloudWatch::Alarm"));
    assert_eq!(template.resource_type("AlarmTopic"), Some("AWS::SNS::Topic"));
    let stack = Stack::new().await;
    let tables = template.tables().expect("tables").into_iter().map(|table| table.logical_id);
    let queues = template.queues().expect("queues").into_iter().map(|queue| queue.logical_id);
    let expected: BTreeSet<String> = tables.chain(queues).collect();
    let created: BTreeSet<String> = stack.provisioned.resources.keys().cloned().collect();
    assert_eq!(created, expected);
    for function in template.functions() {
        stack.provisioned.settings(&template, &function).expect("the environment still resolves");
    }
}

#[tokio::test]
async fn when_provisioned_twice_on_one_endpoint_should_keep_what_exists() {
    let sdk = hookline_local_runner::sdk::emulator_config(hookline_tests::local_aws()).await;
    let template = hookline_tests::template();
    let prefix = hookline_tests::unique_prefix();
    let first = hookline_local_runner::provision(&template, &sdk, &prefix).await.expect("first");
    let second = hookline_local_runner::provision(&template, &sdk, &prefix).await.expect("second");
    assert_eq!(first.resources, second.resources);
}

#[tokio::test]
async fn when_operator_creates_an_account_should_get_a_working_key_of_its_environment() {
    let stack = Stack::new().await;
    let store = &stack.context.store;
    let (account, key) = hookline_local_runner::operator::create_account(
        store,
        "acme",
        hookline_domain::model::Environment::Sandbox,
        "backoffice",
    )
    .await
    .expect("created");
    let caller = hookline_core::authenticate(
        store,
        &hookline_core::Credentials { authorization: Some(&format!("Bearer {}", key.plaintext)), ..Default::default() },
        chrono::Utc::now(),
    )
    .await
    .expect("the key works");
    assert_eq!(caller.account_id, account.id);
    assert_eq!(caller.environment, hookline_domain::model::Environment::Sandbox);
    assert_eq!(caller.audit.app.as_deref(), Some("backoffice"));
    let (other, _) = hookline_local_runner::operator::create_account(
        store,
        "globex",
        hookline_domain::model::Environment::Production,
        "ops",
    )
    .await
    .expect("created");
    assert_ne!(other.id, account.id, "accounts get distinct ids");
}

#[tokio::test]
async fn when_dev_key_is_chosen_should_be_created_once_and_reused() {
    let stack = Stack::new().await;
    let store = &stack.context.store;
    let chosen = "hl_prod_chosen_by_the_developer".to_string();
    let first = hookline_local_runner::operator::dev_api_key(store, Some(chosen.clone())).await.expect("created");
    let second = hookline_local_runner::operator::dev_api_key(store, Some(chosen.clone())).await.expect("reused");
    assert_eq!((first.as_str(), second.as_str()), (chosen.as_str(), chosen.as_str()));
    assert_eq!(store.next_account_id().await.expect("id"), 2, "only one account was made");
    let sandbox = hookline_local_runner::operator::add_sandbox_key(store, &chosen).await.expect("sandbox key");
    let caller = hookline_core::authenticate(
        store,
        &hookline_core::Credentials { authorization: Some(&format!("Bearer {sandbox}")), ..Default::default() },
        chrono::Utc::now(),
    )
    .await
    .expect("works");
    assert_eq!(caller.account_id, 1);
    assert_eq!(caller.environment, hookline_domain::model::Environment::Sandbox);
}
