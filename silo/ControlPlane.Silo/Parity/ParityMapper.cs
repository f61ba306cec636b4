using ControlPlane.Grains.Parity;
using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parity;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Parity;

/// <summary>Grain and library records to their wire form.</summary>
internal static class ParityMapper
{
    public static Proto.SchemaSnapshotInfo ToProto(string target, StoredSchemaSnapshot s) => new()
    {
        Target = target,
        Sequence = s.Sequence,
        TakenAt = Timestamp.FromDateTimeOffset(s.TakenAt),
        Hash = s.Hash,
        Principal = s.Principal,
        Objects = s.Objects,
        Changed = s.Changed,
    };

    public static Proto.SchemaDiffReport ToProto(string a, string b, SchemaSnapshot left, SchemaSnapshot right, SchemaReconciliation plan)
    {
        var report = new Proto.SchemaDiffReport
        {
            A = a,
            B = b,
            AHash = left.Hash(),
            BHash = right.Hash(),
            Equal = plan.Equal,
            Script = plan.Script(),
        };
        report.Differences.AddRange(plan.Differences.Select(d => new Proto.SchemaDifference
        {
            Kind = d.Kind.ToString().ToLowerInvariant(),
            Object = d.Object,
            Type = d.Type switch
            {
                DifferenceType.Added => Proto.SchemaDifferenceType.Added,
                DifferenceType.Removed => Proto.SchemaDifferenceType.Removed,
                _ => Proto.SchemaDifferenceType.Changed,
            },
            Field = d.Field,
            A = d.A ?? "",
            B = d.B ?? "",
            Text = d.ToString(),
        }));
        report.Statements.AddRange(plan.Statements.Select(s =>
        {
            var statement = new Proto.ReconcileStatement { Sql = s.Sql, Lock = Lock(s.Lock), Rewrites = s.Rewrites, Scans = s.Scans, DataLoss = s.DataLoss };
            statement.Hazards.AddRange(s.Hazards);
            return statement;
        }));
        report.Notes.AddRange(plan.Notes);
        return report;
    }

    public static Proto.TierDrift ToProto(string environment, string tier, TierDriftReport? r)
    {
        if (r is null) return new Proto.TierDrift { Environment = environment, Tier = tier };
        var drift = new Proto.TierDrift
        {
            Environment = r.Environment,
            Tier = r.Tier,
            CheckedAt = Timestamp.FromDateTimeOffset(r.CheckedAt),
            Template = r.Template,
            TemplateFound = r.TemplateFound,
            TemplateHash = r.TemplateHash,
            Drift = r.Drift,
            Error = r.Error,
            Scheduled = r.Scheduled,
        };
        drift.Schemas.AddRange(r.Schemas.Select(s =>
        {
            var schema = new Proto.SchemaDrift { Schema = s.Schema, Differences = s.Differences, Error = s.Error };
            schema.Summary.AddRange(s.Summary);
            return schema;
        }));
        return drift;
    }

    /// <summary>"ACCESS EXCLUSIVE", as PostgreSQL's documentation names the lock modes.</summary>
    private static string Lock(LockLevel level) => level == LockLevel.None
        ? "none"
        : string.Concat(level.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + c : c.ToString())).ToUpperInvariant();
}
