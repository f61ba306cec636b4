using System.Text.Json.Serialization;

namespace ControlPlane.Migrations.Parity;

/// <summary>The kinds of object a schema snapshot holds, in the order a reconcile script creates them.</summary>
public enum ObjectKind
{
    Schema,
    Extension,
    Sequence,
    Function,
    Table,
    Column,
    Constraint,
    Index,
    View,
    Trigger,
    Policy,
    Grant,
    Comment,
}

/// <summary>
/// One catalog object. <see cref="Key"/> identifies it within a snapshot (schema-qualified, plus what else makes it
/// unique: a column's table, a function's argument types); two snapshots hold "the same" object when keys match.
/// Every member is a string or a bool, so record equality is value equality and the canonical JSON is flat.
/// </summary>
public interface ISchemaObject
{
    ObjectKind Kind { get; }

    string Key { get; }

    string Schema { get; }

    /// <summary>The same object in another schema (tenant vs template: the schemas' names differ, the shapes may not).</summary>
    ISchemaObject InSchema(string schema);
}

public sealed record SchemaObject(string Schema) : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Schema;
    [JsonIgnore] public string Key => Schema;
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>An extension; <see cref="Schema"/> is where its objects live. Extensions are per database, so the key is the name.</summary>
public sealed record ExtensionObject(string Schema, string Name, string Version) : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Extension;
    [JsonIgnore] public string Key => Name;
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>A sequence that is not an identity column's (those belong to their column). OwnedBy is "table.column" or empty.</summary>
public sealed record SequenceObject(
    string Schema, string Name, string DataType, long Start, long Increment, long Min, long Max, long Cache, bool Cycle, string OwnedBy)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Sequence;
    [JsonIgnore] public string Key => $"{Schema}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>A table with its row-level security flags; columns, constraints and the rest are objects of their own.</summary>
public sealed record TableObject(string Schema, string Name, bool RowSecurity, bool ForceRowSecurity) : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Table;
    [JsonIgnore] public string Key => $"{Schema}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>
/// A column. Identity is "", "always" or "by default"; Generated is the stored expression of a generated column (its
/// Default is then empty). The column's position is not part of it: only recreating a table could reconcile an order.
/// </summary>
public sealed record ColumnObject(
    string Schema, string Table, string Name, string Type, bool NotNull, string Default, string Identity, string Generated)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Column;
    [JsonIgnore] public string Key => $"{Schema}.{Table}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>A table constraint: Type is p, u, f, c or x (pg_constraint.contype); Definition without its NOT VALID.</summary>
public sealed record ConstraintObject(string Schema, string Table, string Name, string Type, string Definition, bool Validated)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Constraint;
    [JsonIgnore] public string Key => $"{Schema}.{Table}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>An index that no constraint owns (those come with their constraint), with its CREATE INDEX and validity.</summary>
public sealed record IndexObject(string Schema, string Table, string Name, string Definition, bool Valid) : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Index;
    [JsonIgnore] public string Key => $"{Schema}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>A view or materialized view; DependsOn lists the relations and functions it uses, as sorted keys separated by semicolons.</summary>
public sealed record ViewObject(string Schema, string Name, bool Materialized, string Definition, string DependsOn) : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.View;
    [JsonIgnore] public string Key => $"{Schema}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema, DependsOn = ParityNames.RebaseList(DependsOn, Schema, schema) };
}

/// <summary>
/// A function or procedure. IdentityArguments (the argument types) make it unique; Arguments is the full list with
/// names and defaults. Body is the source (or, for a BEGIN ATOMIC body, its text), BodyHash its sha256.
/// </summary>
public sealed record FunctionObject(
    string Schema, string Name, string IdentityArguments, string Arguments, bool Procedure, string Result, string Language,
    string Volatility, bool Strict, bool SecurityDefiner, bool AtomicBody, string Body, string BodyHash)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Function;
    [JsonIgnore] public string Key => $"{Schema}.{Name}({IdentityArguments})";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>A trigger: its CREATE TRIGGER, the function it runs (a function key) and Enabled as pg_trigger.tgenabled (O, D, R, A).</summary>
public sealed record TriggerObject(string Schema, string Table, string Name, string Definition, string Function, string Enabled)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Trigger;
    [JsonIgnore] public string Key => $"{Schema}.{Table}.{Name}";
    public ISchemaObject InSchema(string schema) =>
        this with { Schema = schema, Function = ParityNames.RebaseKey(Function, Schema, schema) };
}

/// <summary>A row-level security policy; Roles is a sorted comma-separated list, Using and Check the expressions.</summary>
public sealed record PolicyObject(
    string Schema, string Table, string Name, string Command, bool Permissive, string Roles, string Using, string Check)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Policy;
    [JsonIgnore] public string Key => $"{Schema}.{Table}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>
/// One privilege held by one grantee on one object. ObjectType is schema, table, sequence, function or procedure;
/// ObjectName is relative to the schema (empty for the schema itself). The owner's own privileges are not listed.
/// </summary>
public sealed record GrantObject(string Schema, string ObjectType, string ObjectName, string Grantee, string Privilege, bool Grantable)
    : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Grant;
    [JsonIgnore] public string Key => $"{ObjectType} {Schema}.{ObjectName} {Grantee} {Privilege}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}

/// <summary>
/// A comment (COMMENT ON): ObjectType is schema, table, view, materialized view, column, index, sequence, function,
/// procedure, constraint, trigger or policy. Table is set for a column, constraint, trigger or policy (Name is then
/// the column's or the object's own name); a function's Name carries its argument types.
/// </summary>
public sealed record CommentObject(string Schema, string ObjectType, string Table, string Name, string Text) : ISchemaObject
{
    [JsonIgnore] public ObjectKind Kind => ObjectKind.Comment;
    [JsonIgnore] public string Key => $"{ObjectType} {Schema}.{Table}.{Name}";
    public ISchemaObject InSchema(string schema) => this with { Schema = schema };
}
