//! Reads `template.yaml`: the tables, queues and function environments the local stack provisions.
//! The template is the one source of truth; nothing here repeats its schema.

use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Why the template could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The file is not YAML.
    #[error("{path} is not valid YAML: {source}")]
    Parse { path: String, source: serde_yaml::Error },
    /// A resource is not what the local stack can provision.
    #[error("template resource {resource}: {detail}")]
    Resource { resource: String, detail: String },
}

/// A reference inside the template: `!Ref X`, `!GetAtt X.Attr`, or a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A literal value.
    Literal(String),
    /// `!Ref name`.
    Ref(String),
    /// `!GetAtt resource.attribute`.
    GetAtt(String, String),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

/// A DynamoDB table as the template declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    /// Its logical id.
    pub logical_id: String,
    /// `(name, type)` of each key attribute.
    pub attributes: Vec<(String, String)>,
    /// `(name, HASH|RANGE)` of the primary key.
    pub key_schema: Vec<(String, String)>,
    /// Each global secondary index: name, key schema, projection type.
    pub indexes: Vec<IndexSpec>,
    /// The TTL attribute, when enabled.
    pub ttl_attribute: Option<String>,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    /// Its name.
    pub name: String,
    /// `(name, HASH|RANGE)`.
    pub key_schema: Vec<(String, String)>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
}

/// An SQS queue as the template declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    /// Its logical id.
    pub logical_id: String,
    /// Plain attributes (VisibilityTimeout, MessageRetentionPeriod, …) as strings.
    pub attributes: BTreeMap<String, String>,
    /// The dead-letter queue's logical id and `maxReceiveCount`.
    pub redrive: Option<(String, u32)>,
}

impl Template {
    /// Reads and parses the template at `path`.
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let display = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| TemplateError::Read { path: display.clone(), source })?;
        Self::parse(&text).map_err(|source| TemplateError::Parse { path: display, source })
    }

    /// Parses a template's text.
    pub fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        Ok(Self { root: serde_yaml::from_str(text)? })
    }

    fn resources(&self) -> impl Iterator<Item = (String, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(name, resource)| Some((name.as_str()?.to_string(), resource)))
    }

    fn resources_of(&self, kind: &str) -> Vec<(String, &Value)> {
        self.resources().filter(|(_, resource)| resource.get("Type").and_then(Value::as_str) == Some(kind)).collect()
    }

    /// The type of a resource, e.g. `AWS::SQS::Queue`.
    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.root.get("Resources")?.get(logical_id)?.get("Type")?.as_str()
    }

    /// A parameter's default, as a string.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        scalar(self.root.get("Parameters")?.get(name)?.get("Default")?)
    }

    /// Every DynamoDB table.
    pub fn tables(&self) -> Result<Vec<TableSpec>, TemplateError> {
        self.resources_of("AWS::DynamoDB::Table")
            .into_iter()
            .map(|(logical_id, resource)| {
                let error =
                    |detail: &str| TemplateError::Resource { resource: logical_id.clone(), detail: detail.into() };
                let properties = resource.get("Properties").ok_or_else(|| error("has no Properties"))?;
                let attributes = pairs(properties.get("AttributeDefinitions"), "AttributeName", "AttributeType")
                    .ok_or_else(|| error("AttributeDefinitions must list AttributeName/AttributeType"))?;
                let key_schema = pairs(properties.get("KeySchema"), "AttributeName", "KeyType")
                    .ok_or_else(|| error("KeySchema must list AttributeName/KeyType"))?;
                let indexes = properties
                    .get("GlobalSecondaryIndexes")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .map(|index| {
                        Some(IndexSpec {
                            name: index.get("IndexName")?.as_str()?.to_string(),
                            key_schema: pairs(index.get("KeySchema"), "AttributeName", "KeyType")?,
                            projection: index.get("Projection")?.get("ProjectionType")?.as_str()?.to_string(),
                        })
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| error("each GlobalSecondaryIndex needs IndexName, KeySchema, Projection"))?;
                let ttl = properties.get("TimeToLiveSpecification");
                let ttl_attribute = ttl
                    .filter(|ttl| ttl.get("Enabled").and_then(Value::as_bool) == Some(true))
                    .and_then(|ttl| ttl.get("AttributeName")?.as_str().map(String::from));
                Ok(TableSpec { logical_id, attributes, key_schema, indexes, ttl_attribute })
            })
            .collect()
    }

    /// Every SQS queue, dead-letter queues first so that redrive targets exist.
    pub fn queues(&self) -> Result<Vec<QueueSpec>, TemplateError> {
        let mut queues = self
            .resources_of("AWS::SQS::Queue")
            .into_iter()
            .map(|(logical_id, resource)| {
                let error =
                    |detail: &str| TemplateError::Resource { resource: logical_id.clone(), detail: detail.into() };
                let mut attributes = BTreeMap::new();
                let mut redrive = None;
                for (name, value) in resource.get("Properties").and_then(Value::as_mapping).into_iter().flatten() {
                    let name = name.as_str().unwrap_or_default();
                    if name == "RedrivePolicy" {
                        let target = value.get("deadLetterTargetArn").map(reference);
                        let Some(Reference::GetAtt(dlq, attribute)) = target else {
                            return Err(error("RedrivePolicy.deadLetterTargetArn must be !GetAtt <Queue>.Arn"));
                        };
                        if attribute != "Arn" {
                            return Err(error("RedrivePolicy.deadLetterTargetArn must be !GetAtt <Queue>.Arn"));
                        }
                        let count = value
                            .get("maxReceiveCount")
                            .and_then(scalar)
                            .and_then(|count| count.parse().ok())
                            .ok_or_else(|| error("RedrivePolicy.maxReceiveCount must be a number"))?;
                        redrive = Some((dlq, count));
                    } else if name == "QueueName" {
                        return Err(error("QueueName is set: the local stack names queues itself"));
                    } else if let Some(text) = scalar(value) {
                        attributes.insert(name.to_string(), text);
                    }
                }
                Ok(QueueSpec { logical_id, attributes, redrive })
            })
            .collect::<Result<Vec<_>, _>>()?;
        queues.sort_by_key(|queue| queue.redrive.is_some());
        Ok(queues)
    }

    /// The environment a function gets: `Globals.Function.Environment` overlaid with its own.
    pub fn function_environment(&self, logical_id: &str) -> BTreeMap<String, Reference> {
        let global = self.root.get("Globals").and_then(|g| g.get("Function"));
        let own = self.root.get("Resources").and_then(|r| r.get(logical_id)).and_then(|f| f.get("Properties"));
        [global, own]
            .into_iter()
            .flatten()
            .filter_map(|scope| scope.get("Environment")?.get("Variables")?.as_mapping())
            .flatten()
            .filter_map(|(name, value)| Some((name.as_str()?.to_string(), reference(value))))
            .collect()
    }

    /// The logical ids of the serverless functions.
    pub fn functions(&self) -> Vec<String> {
        self.resources_of("AWS::Serverless::Function").into_iter().map(|(name, _)| name).collect()
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn reference(value: &Value) -> Reference {
    if let Value::Tagged(tagged) = value {
        let target = scalar(&tagged.value).unwrap_or_default();
        if tagged.tag == "Ref" {
            return Reference::Ref(target);
        }
        if tagged.tag == "GetAtt" {
            let (resource, attribute) = target.split_once('.').unwrap_or((&target, ""));
            return Reference::GetAtt(resource.to_string(), attribute.to_string());
        }
    }
    Reference::Literal(scalar(value).unwrap_or_default())
}

fn pairs(list: Option<&Value>, first: &str, second: &str) -> Option<Vec<(String, String)>> {
    list?
        .as_sequence()?
        .iter()
        .map(|entry| Some((entry.get(first)?.as_str()?.to_string(), entry.get(second)?.as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_template() -> Template {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        Template::load(&path).expect("template.yaml loads")
    }

    #[test]
    fn when_reading_project_template_should_find_the_table_with_index_and_ttl() {
        let tables = project_template().tables().expect("tables");
        assert_eq!(tables.len(), 1);
        let table = &tables[0];
        assert_eq!(table.key_schema, vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]);
        assert_eq!(table.indexes.len(), 1);
        assert_eq!(table.indexes[0].name, "gsi1");
        assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
    }

    #[test]
    fn when_reading_project_template_should_order_dead_letter_queue_first() {
        let queues = project_template().queues().expect("queues");
        assert_eq!(queues.len(), 4, "the delivery and ordered queues, each with its DLQ");
        for (index, queue) in queues.iter().enumerate() {
            if let Some((dlq, count)) = &queue.redrive {
                let at = queues.iter().position(|other| other.logical_id == *dlq).expect("the DLQ is a queue");
                assert!(at < index && queues[at].redrive.is_none(), "{dlq} comes before {}", queue.logical_id);
                assert!(*count >= 1);
            }
        }
    }

    #[test]
    fn when_reading_function_environment_should_resolve_globals() {
        let template = project_template();
        for function in template.functions() {
            let environment = template.function_environment(&function);
            assert!(matches!(environment.get("TABLE_NAME"), Some(Reference::Ref(_))), "{function}");
            assert!(matches!(environment.get("DELIVERY_QUEUE_URL"), Some(Reference::Ref(_))), "{function}");
        }
    }

    /// `!If [condition, then, else]` as its three parts.
    fn if_parts(value: &Value) -> Option<(String, &Value, &Value)> {
        let Value::Tagged(tagged) = value else { return None };
        let parts = tagged.value.as_sequence().filter(|_| tagged.tag == "If")?;
        Some((parts.first()?.as_str()?.to_string(), parts.get(1)?, parts.get(2)?))
    }

    fn is_no_value(value: &Value) -> bool {
        reference(value) == Reference::Ref("AWS::NoValue".into())
    }

    fn alarm_on(template: &Template, metric: [&str; 2], dimension: &str, target: &Reference) -> bool {
        template.resources_of("AWS::CloudWatch::Alarm").into_iter().any(|(_, alarm)| {
            let properties = &alarm["Properties"];
            let dimensions = properties["Dimensions"].as_sequence().cloned().unwrap_or_default();
            properties["Namespace"].as_str() == Some(metric[0])
                && properties["MetricName"].as_str() == Some(metric[1])
                && properties["Threshold"].as_i64() == Some(0)
                && properties["ComparisonOperator"].as_str() == Some("GreaterThanThreshold")
                && dimensions
                    .iter()
                    .any(|entry| entry["Name"].as_str() == Some(dimension) && reference(&entry["Value"]) == *target)
        })
    }

    #[test]
    fn when_reading_project_template_should_find_an_errors_and_a_throttles_alarm_per_function() {
        let template = project_template();
        assert_eq!(template.functions().len(), 3);
        for function in template.functions() {
            for metric in ["Errors", "Throttles"] {
                let target = Reference::Ref(function.clone());
                assert!(
                    alarm_on(&template, ["AWS/Lambda", metric], "FunctionName", &target),
                    "{function} has no {metric} alarm"
                );
            }
        }
    }

    #[test]
    fn when_reading_project_template_should_find_a_depth_alarm_on_each_dead_letter_queue() {
        let template = project_template();
        let queues = template.queues().expect("queues");
        let dead_letter_queues: Vec<_> = queues.iter().filter_map(|queue| queue.redrive.as_ref()).collect();
        assert!(!dead_letter_queues.is_empty());
        for (dlq, _) in dead_letter_queues {
            let target = Reference::GetAtt(dlq.clone(), "QueueName".into());
            assert!(
                alarm_on(&template, ["AWS/SQS", "ApproximateNumberOfMessagesVisible"], "QueueName", &target),
                "{dlq}"
            );
        }
    }

    #[test]
    fn when_no_alarm_destination_is_set_should_create_no_topic_and_alarms_without_actions() {
        let template = project_template();
        assert_eq!(template.parameter_default("AlarmEmail").as_deref(), Some(""));
        assert_eq!(template.parameter_default("AlarmTopicArn").as_deref(), Some(""));
        for (topic, resource) in template.resources_of("AWS::SNS::Topic") {
            assert_eq!(resource["Condition"].as_str(), Some("CreateAlarmTopic"), "{topic} is conditional");
        }
        let alarms = template.resources_of("AWS::CloudWatch::Alarm");
        assert_eq!(alarms.len(), 8, "one per dead-letter queue, two per function");
        for (alarm, resource) in alarms {
            let (condition, _, otherwise) = if_parts(&resource["Properties"]["AlarmActions"]).expect(&alarm);
            assert_eq!(condition, "NotifyAlarms", "{alarm}");
            assert!(is_no_value(otherwise), "{alarm}: no actions without a destination");
        }
    }

    #[test]
    fn when_reading_project_template_should_leave_reserved_concurrency_unset_by_default() {
        let template = project_template();
        for function in template.functions() {
            let reserved = &template.root["Resources"][function.as_str()]["Properties"]["ReservedConcurrentExecutions"];
            let (condition, then, otherwise) = if_parts(reserved).expect(&function);
            assert!(template.root["Conditions"].get(&condition).is_some(), "{function}: {condition} is declared");
            let Reference::Ref(parameter) = reference(then) else { panic!("{function}: !Ref a parameter") };
            assert_eq!(template.parameter_default(&parameter).as_deref(), Some(""), "{function}: unset by default");
            assert!(is_no_value(otherwise), "{function}");
        }
    }

    #[test]
    fn when_reading_project_template_should_throttle_the_http_api_by_parameters() {
        let template = project_template();
        let (api, resource) = template.resources_of("AWS::Serverless::HttpApi").into_iter().next().expect("an HttpApi");
        let settings = &resource["Properties"]["DefaultRouteSettings"];
        for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
            let Reference::Ref(parameter) = reference(&settings[limit]) else { panic!("{api}.{limit}: !Ref") };
            assert!(template.parameter_default(&parameter).is_some(), "{parameter} has a default");
        }
    }

    #[test]
    fn when_ordered_queue_is_declared_should_be_fifo_with_a_fifo_dlq_and_a_mapping_of_the_runners_batch() {
        let template = project_template();
        let queues = template.queues().expect("queues");
        let find = |id: &str| queues.iter().find(|queue| queue.logical_id == id).cloned().expect(id);
        let ordered = find("OrderedDeliveryQueue");
        assert_eq!(ordered.attributes.get("FifoQueue").map(String::as_str), Some("true"));
        let (dlq, max_receive_count) = ordered.redrive.clone().expect("a redrive policy");
        assert_eq!(
            find(&dlq).attributes.get("FifoQueue").map(String::as_str),
            Some("true"),
            "a FIFO queue's DLQ is FIFO"
        );
        assert!(max_receive_count >= 100, "holds count as receives: {max_receive_count}");
        let events =
            template.root["Resources"]["DeliverFunction"]["Properties"]["Events"].as_mapping().expect("events");
        let mapping = events
            .values()
            .find(|event| {
                reference(&event["Properties"]["Queue"])
                    == Reference::GetAtt("OrderedDeliveryQueue".into(), "Arn".into())
            })
            .expect("deliver reads the ordered queue");
        assert_eq!(mapping["Properties"]["BatchSize"].as_u64(), Some(crate::runner::ORDERED_BATCH_SIZE as u64));
        assert!(mapping["Properties"]["MaximumBatchingWindowInSeconds"].is_null(), "a FIFO mapping has no window");
        for function in ["ApiFunction", "IngestFunction", "DeliverFunction"] {
            let environment = template.function_environment(function);
            assert!(
                matches!(environment.get("ORDERED_QUEUE_URL"), Some(Reference::Ref(queue)) if queue == "OrderedDeliveryQueue"),
                "{function}"
            );
        }
    }

    #[test]
    fn when_runner_reads_max_concurrency_should_be_what_the_deliver_event_source_deploys() {
        let template = project_template();
        let events =
            template.root["Resources"]["DeliverFunction"]["Properties"]["Events"].as_mapping().expect("events");
        let sqs = events.values().find(|event| event["Type"].as_str() == Some("SQS")).expect("an SQS event");
        let deployed = reference(&sqs["Properties"]["ScalingConfig"]["MaximumConcurrency"]);
        assert_eq!(deployed, Reference::Ref(crate::runner::MAX_CONCURRENCY_PARAMETER.into()));
        let source = crate::runner::EventSource::from_template(&template).expect("a numeric default");
        let default = template.parameter_default(crate::runner::MAX_CONCURRENCY_PARAMETER).expect("default");
        assert_eq!(source.max_concurrency.to_string(), default);
        let batch_size = reference(&sqs["Properties"]["BatchSize"]);
        assert_eq!(batch_size, Reference::Ref(crate::runner::BATCH_SIZE_PARAMETER.into()));
        let default = template.parameter_default(crate::runner::BATCH_SIZE_PARAMETER).expect("default");
        assert_eq!(source.batch_size.to_string(), default);
        let window = sqs["Properties"]["MaximumBatchingWindowInSeconds"].as_u64();
        assert_eq!(window, Some(crate::runner::BATCHING_WINDOW.as_secs()), "the runner's window is the template's");
    }

    #[test]
    fn when_redrive_target_is_not_getatt_should_refuse() {
        let template = Template::parse(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy:\n        deadLetterTargetArn: arn:x\n        maxReceiveCount: 3\n",
        )
        .expect("yaml");
        assert!(template.queues().is_err());
    }

    #[test]
    fn when_file_missing_should_name_it() {
        let error = Template::load(Path::new("/nonexistent/template.yaml")).expect_err("missing");
        assert!(error.to_string().contains("/nonexistent/template.yaml"));
    }
}
