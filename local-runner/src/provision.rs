//! Creates the template's tables and queues on an emulator (or any endpoint), and resolves
//! the functions' environment to the physical names it created.

use crate::template::{Reference, TableSpec, Template, TemplateError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use hookline_aws::Settings;
use std::collections::{BTreeMap, HashMap};

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The template could not be used.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A call to the emulator failed.
    #[error("{operation} {name}: {detail}")]
    Aws { operation: &'static str, name: String, detail: String },
    /// A function's environment refers to something the template does not define.
    #[error("cannot resolve {variable} of {function}: {detail}")]
    Unresolved { function: String, variable: String, detail: String },
}

fn aws_error(operation: &'static str, name: &str, error: impl std::error::Error) -> ProvisionError {
    ProvisionError::Aws {
        operation,
        name: name.to_string(),
        detail: aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    }
}

/// A resource created by provisioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Physical {
    /// A DynamoDB table.
    Table {
        /// Its name.
        name: String,
    },
    /// An SQS queue.
    Queue {
        /// Its name.
        name: String,
        /// Its URL (what `!Ref` gives).
        url: String,
        /// Its ARN.
        arn: String,
    },
}

/// What provisioning created, by logical id.
#[derive(Debug, Clone, Default)]
pub struct Provisioned {
    /// Logical id to physical resource.
    pub resources: BTreeMap<String, Physical>,
}

impl Provisioned {
    /// The URL of a queue, by logical id.
    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        match self.resources.get(logical_id)? {
            Physical::Queue { url, .. } => Some(url),
            Physical::Table { .. } => None,
        }
    }

    /// The name of a table, by logical id.
    pub fn table_name(&self, logical_id: &str) -> Option<&str> {
        match self.resources.get(logical_id)? {
            Physical::Table { name } => Some(name),
            Physical::Queue { .. } => None,
        }
    }

    /// A function's environment with every reference resolved as CloudFormation would.
    pub fn environment(&self, template: &Template, function: &str) -> Result<BTreeMap<String, String>, ProvisionError> {
        template
            .function_environment(function)
            .into_iter()
            .map(|(variable, reference)| {
                let unresolved = |detail: String| ProvisionError::Unresolved {
                    function: function.to_string(),
                    variable: variable.clone(),
                    detail,
                };
                let value = match &reference {
                    Reference::Literal(text) => text.clone(),
                    Reference::Ref(name) => match self.resources.get(name) {
                        Some(Physical::Table { name }) => name.clone(),
                        Some(Physical::Queue { url, .. }) => url.clone(),
                        None => template.parameter_default(name).ok_or_else(|| {
                            unresolved(format!("{name} is neither a resource nor a parameter with a default"))
                        })?,
                    },
                    Reference::GetAtt(name, attribute) => match (self.resources.get(name), attribute.as_str()) {
                        (Some(Physical::Queue { arn, .. }), "Arn") => arn.clone(),
                        (Some(Physical::Queue { name, .. }), "QueueName") => name.clone(),
                        _ => return Err(unresolved(format!("!GetAtt {name}.{attribute} is not supported locally"))),
                    },
                };
                Ok((variable, value))
            })
            .collect()
    }

    /// The [`Settings`] of a function, from its resolved environment.
    pub fn settings(&self, template: &Template, function: &str) -> Result<Settings, ProvisionError> {
        let environment = self.environment(template, function)?;
        Settings::from_lookup(|name| environment.get(name).cloned()).map_err(|error| ProvisionError::Unresolved {
            function: function.to_string(),
            variable: "settings".into(),
            detail: error.to_string(),
        })
    }
}

/// Creates every table and queue of `template`, named `{prefix}-{LogicalId}`.
pub async fn provision(
    template: &Template,
    sdk: &aws_config::SdkConfig,
    prefix: &str,
) -> Result<Provisioned, ProvisionError> {
    let mut provisioned = provision_tables(template, &aws_sdk_dynamodb::Client::new(sdk), prefix).await?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for queue in template.queues()? {
        // A FIFO queue's name ends in `.fifo`, as CloudFormation names it.
        let fifo = queue.attributes.get("FifoQueue").is_some_and(|flag| flag == "true");
        let name = format!("{prefix}-{}{}", queue.logical_id, if fifo { ".fifo" } else { "" });
        let mut attributes: HashMap<QueueAttributeName, String> = queue
            .attributes
            .iter()
            .map(|(key, value)| (QueueAttributeName::from(key.as_str()), value.clone()))
            .collect();
        if let Some((dlq, max_receive_count)) = &queue.redrive {
            let Some(Physical::Queue { arn, .. }) = provisioned.resources.get(dlq) else {
                return Err(TemplateError::Resource {
                    resource: queue.logical_id.clone(),
                    detail: format!("its dead-letter queue {dlq} is not a queue of the template"),
                }
                .into());
            };
            let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count });
            attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let created = sqs
            .create_queue()
            .queue_name(&name)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|error| aws_error("CreateQueue", &name, error))?;
        let url = created.queue_url.unwrap_or_default();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|error| aws_error("GetQueueAttributes", &name, error))?
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
            .unwrap_or_default();
        provisioned.resources.insert(queue.logical_id, Physical::Queue { name, url, arn });
    }
    Ok(provisioned)
}

/// Creates only the tables (for a DynamoDB-only engine such as DynamoDB Local).
pub async fn provision_tables(
    template: &Template,
    client: &aws_sdk_dynamodb::Client,
    prefix: &str,
) -> Result<Provisioned, ProvisionError> {
    let mut provisioned = Provisioned::default();
    for table in template.tables()? {
        let name = format!("{prefix}-{}", table.logical_id);
        create_table(client, &table, &name).await?;
        provisioned.resources.insert(table.logical_id.clone(), Physical::Table { name });
    }
    Ok(provisioned)
}

fn key_schema(pairs: &[(String, String)]) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    pairs
        .iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(kind.as_str()))
                .build()
                .map_err(|error| aws_error("KeySchema", name, error))
        })
        .collect()
}

async fn create_table(client: &aws_sdk_dynamodb::Client, table: &TableSpec, name: &str) -> Result<(), ProvisionError> {
    let attributes = table
        .attributes
        .iter()
        .map(|(attribute, kind)| {
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|error| aws_error("AttributeDefinition", attribute, error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = table
        .indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(
                    Projection::builder().projection_type(ProjectionType::from(index.projection.as_str())).build(),
                )
                .build()
                .map_err(|error| aws_error("GlobalSecondaryIndex", &index.name, error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&table.key_schema)?))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await;
    if let Err(error) = created {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        // Provisioning a long-lived endpoint twice keeps what the first run made.
        if error.code() == Some("ResourceInUseException") {
            return Ok(());
        }
        return Err(aws_error("CreateTable", name, error));
    }
    if let Some(attribute) = &table.ttl_attribute {
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(|error| aws_error("TimeToLiveSpecification", name, error))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(specification)
            .send()
            .await
            .map_err(|error| aws_error("UpdateTimeToLive", name, error))?;
    }
    Ok(())
}
