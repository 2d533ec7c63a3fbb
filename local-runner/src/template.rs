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
        assert_eq!(queues.len(), 2);
        assert!(queues[0].redrive.is_none());
        let (dlq, count) = queues[1].redrive.clone().expect("redrive");
        assert_eq!(dlq, queues[0].logical_id);
        assert!(count >= 1);
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
