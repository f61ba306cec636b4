namespace ControlPlane.IntegrationTests.Parity;

/// <summary>
/// Random pairs of schemas for the reconcile proof. A schema is a choice of variant (0 = absent) for each feature of
/// a fixed universe: three tables (identity, serial and plain keys) with columns of changing type, nullability,
/// default and generation, checks, unique and foreign keys (valid or not), indexes, row-level security and policies,
/// triggers (enabled or not), grants and comments; functions and procedures (SQL, PL/pgSQL, BEGIN ATOMIC), a sequence,
/// views over views and functions, a materialized view with an index. B is A with about a third of the choices
/// re-rolled. A feature whose prerequisites are absent is left out, so every rendered schema is valid.
/// </summary>
internal static class SchemaPairGen
{
    private sealed record Feature(string Key, int Rank, string[] Requires, Func<string, int, string>[] Variants);

    private static readonly Feature[] Universe = Build().ToArray();

    /// <summary>The roles grants and policies name; the fixture creates them.</summary>
    public static readonly string[] Roles = ["parity_reader", "parity_writer"];

    public static (IReadOnlyList<string> A, IReadOnlyList<string> B) Pair(int seed, string schemaA, string schemaB)
    {
        var random = new Random(seed);
        var a = Universe.ToDictionary(f => f.Key, f => random.Next(f.Variants.Length + 1));
        var b = a.ToDictionary(p => p.Key, p => random.NextDouble() < 0.35 ? random.Next(Universe.First(f => f.Key == p.Key).Variants.Length + 1) : p.Value);
        return (Render(a, schemaA), Render(b, schemaB));
    }

    // One statement per element: a BEGIN ATOMIC body holds semicolons, so nothing may split the text again.
    private static string[] Render(Dictionary<string, int> choice, string schema)
    {
        bool Present(string key) => choice[key] > 0 && Universe.First(f => f.Key == key).Requires.All(Present);
        return [.. Universe.Where(f => Present(f.Key)).OrderBy(f => f.Rank).ThenBy(f => f.Key, StringComparer.Ordinal)
            .SelectMany(f => f.Variants[choice[f.Key] - 1](schema, choice[f.Key]).Split(";\n"))];
    }

    private static Func<string, int, string> Sql(string sql) => (_, _) => sql;

    private static IEnumerable<Feature> Build()
    {
        yield return new("touch", 10, [], [
            Sql("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$"),
            Sql("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF NEW IS NULL THEN RETURN NULL; END IF; RETURN NEW; END$$")]);
        yield return new("f_add", 10, [], [
            Sql("CREATE FUNCTION f_add(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$SELECT a + b$$"),
            Sql("CREATE FUNCTION f_add(a integer, b integer) RETURNS integer LANGUAGE sql STABLE AS $$SELECT a - b$$"),
            Sql("CREATE FUNCTION f_add(a integer, b integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$SELECT (a + b)::bigint$$"),
            Sql("CREATE FUNCTION f_add(a integer, b integer) RETURNS integer LANGUAGE plpgsql STRICT SECURITY DEFINER AS $$BEGIN RETURN a * b; END$$")]);
        yield return new("p_noop", 10, [], [
            Sql("CREATE PROCEDURE p_noop() LANGUAGE plpgsql AS $$BEGIN NULL; END$$"),
            Sql("CREATE PROCEDURE p_noop() LANGUAGE sql BEGIN ATOMIC SELECT 1; END")]);
        yield return new("f_add_grant", 12, ["f_add"], [
            Sql("REVOKE EXECUTE ON FUNCTION f_add(integer, integer) FROM PUBLIC"),
            Sql("GRANT EXECUTE ON FUNCTION f_add(integer, integer) TO parity_reader")]);
        yield return new("s_counter", 5, [], [
            Sql("CREATE SEQUENCE s_counter"),
            Sql("CREATE SEQUENCE s_counter INCREMENT BY 5 CACHE 10"),
            Sql("CREATE SEQUENCE s_counter AS integer MAXVALUE 100000 CYCLE")]);
        yield return new("s_counter_grant", 50, ["s_counter"], [Sql("GRANT USAGE ON SEQUENCE s_counter TO parity_reader")]);
        yield return new("s_counter_owner", 26, ["s_counter", "t2"], [Sql("ALTER SEQUENCE s_counter OWNED BY t2.ref_id")]);
        yield return new("schema_grant", 50, [], [
            (s, _) => $"GRANT USAGE ON SCHEMA {s} TO parity_reader", (s, _) => $"GRANT USAGE, CREATE ON SCHEMA {s} TO parity_writer"]);
        yield return new("schema_comment", 55, [], [(s, _) => $"COMMENT ON SCHEMA {s} IS 'tenant shape'"]);
        string[] ids = ["bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "bigserial PRIMARY KEY", "bigint PRIMARY KEY"];
        for (var i = 0; i < 3; i++)
        {
            var t = $"t{i}";
            var id = ids[i];
            yield return new(t, 20, [], i == 0
                ? [Sql($"CREATE TABLE {t} (id {id}, ref_id bigint)"), Sql($"CREATE TABLE {t} (id {id.Replace("ALWAYS", "BY DEFAULT", StringComparison.Ordinal)}, ref_id bigint)")]
                : [Sql($"CREATE TABLE {t} (id {id}, ref_id bigint)")]);
            for (var j = 0; j < 3; j++)
            {
                yield return new($"{t}.c{j}", 25, [t], [
                    Sql($"ALTER TABLE {t} ADD COLUMN c{j} text"),
                    Sql($"ALTER TABLE {t} ADD COLUMN c{j} integer NOT NULL DEFAULT 0"),
                    Sql($"ALTER TABLE {t} ADD COLUMN c{j} varchar(20) DEFAULT 'x'"),
                    Sql($"ALTER TABLE {t} ADD COLUMN c{j} bigint"),
                    Sql($"ALTER TABLE {t} ADD COLUMN c{j} bigint GENERATED ALWAYS AS (id * 2) STORED"),
                    Sql($"ALTER TABLE {t} ADD COLUMN c{j} text NOT NULL DEFAULT 'n'")]);
            }
            yield return new($"{t}_chk", 30, [t], [
                Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_chk CHECK (id > 0)"),
                Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_chk CHECK (id > 0) NOT VALID"),
                Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_chk CHECK (id < 1000000)")]);
            yield return new($"{t}_c0_key", 30, [t, $"{t}.c0"], [Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_c0_key UNIQUE (c0)")]);
            var other = $"t{(i + 1) % 3}";
            yield return new($"{t}_ref_fk", 35, [t, other], [
                Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_ref_fk FOREIGN KEY (ref_id) REFERENCES {other} (id)"),
                Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_ref_fk FOREIGN KEY (ref_id) REFERENCES {other} (id) NOT VALID"),
                Sql($"ALTER TABLE {t} ADD CONSTRAINT {t}_ref_fk FOREIGN KEY (ref_id) REFERENCES {t} (id) ON DELETE CASCADE")]);
            yield return new($"{t}_c1_idx", 32, [t, $"{t}.c1"], [
                Sql($"CREATE INDEX {t}_c1_idx ON {t} (c1)"),
                Sql($"CREATE INDEX {t}_c1_idx ON {t} (c1) WHERE c1 IS NOT NULL"),
                Sql($"CREATE INDEX {t}_c1_idx ON {t} USING hash (c1)")]);
            yield return new($"{t}_multi_idx", 32, [t], [
                Sql($"CREATE INDEX {t}_multi_idx ON {t} (ref_id, id)"), Sql($"CREATE UNIQUE INDEX {t}_multi_idx ON {t} (id DESC)")]);
            yield return new($"{t}_rls", 40, [t], [
                Sql($"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"),
                Sql($"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {t} FORCE ROW LEVEL SECURITY")]);
            yield return new($"{t}_p", 45, [t], [
                Sql($"CREATE POLICY {t}_p ON {t} USING (id > 0)"),
                Sql($"CREATE POLICY {t}_p ON {t} FOR SELECT TO parity_reader USING (true)"),
                Sql($"CREATE POLICY {t}_p ON {t} AS RESTRICTIVE FOR UPDATE TO parity_reader, parity_writer USING (id > 0) WITH CHECK (id > 0)")]);
            yield return new($"{t}_trg", 45, [t, "touch"], [
                Sql($"CREATE TRIGGER {t}_trg BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION touch()"),
                Sql($"CREATE TRIGGER {t}_trg BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION touch()"),
                Sql($"CREATE TRIGGER {t}_trg BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION touch();\nALTER TABLE {t} DISABLE TRIGGER {t}_trg")]);
            yield return new($"{t}_grant", 50, [t], [
                Sql($"GRANT SELECT ON {t} TO parity_reader"), Sql($"GRANT SELECT, INSERT ON {t} TO parity_writer WITH GRANT OPTION")]);
            yield return new($"{t}_comment", 55, [t], [
                Sql($"COMMENT ON TABLE {t} IS 'ledger'"), Sql($"COMMENT ON TABLE {t} IS 'it''s the ledger'")]);
            yield return new($"{t}_c0_comment", 55, [t, $"{t}.c0"], [Sql($"COMMENT ON COLUMN {t}.c0 IS 'note'")]);
        }
        yield return new("v0", 40, ["t0"], [
            Sql("CREATE VIEW v0 AS SELECT id, ref_id FROM t0"),
            Sql("CREATE VIEW v0 AS SELECT id, ref_id, ref_id + 1 AS next_ref FROM t0")]);
        yield return new("v0_c0", 40, ["t0", "t0.c0"], [Sql("CREATE VIEW v0_c0 AS SELECT id, c0 FROM t0")]);
        yield return new("v_add", 40, ["t0", "f_add"], [Sql("CREATE VIEW v_add AS SELECT f_add(1, 2) AS x, id FROM t0")]);
        yield return new("v1", 41, ["v0"], [Sql("CREATE VIEW v1 AS SELECT * FROM v0"), Sql("CREATE VIEW v1 AS SELECT count(*) AS n FROM v0")]);
        yield return new("v0_comment", 55, ["v0"], [Sql("COMMENT ON VIEW v0 IS 'orders seen by reporting'")]);
        yield return new("mv", 40, ["t1"], [
            Sql("CREATE MATERIALIZED VIEW mv AS SELECT id FROM t1"), Sql("CREATE MATERIALIZED VIEW mv AS SELECT id, ref_id FROM t1")]);
        yield return new("mv_idx", 42, ["mv"], [Sql("CREATE INDEX mv_idx ON mv (id)")]);
        yield return new("f_add_comment", 55, ["f_add"], [Sql("COMMENT ON FUNCTION f_add(integer, integer) IS 'adds'")]);
        yield return new("s_counter_comment", 55, ["s_counter"], [Sql("COMMENT ON SEQUENCE s_counter IS 'invoice numbers'")]);
    }
}
