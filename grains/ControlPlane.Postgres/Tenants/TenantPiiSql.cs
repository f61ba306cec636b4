namespace ControlPlane.Postgres.Tenants;

/// <summary>
/// Every statement of the personal-data catalog and of anonymisation. As in <see cref="TenantSql"/>, statements on a
/// tenant's tables are rendered server-side by <c>format()</c> (%I identifiers, %L literals, %s the column's own
/// <c>format_type</c> read from the catalog): nothing is string-built here.
/// </summary>
internal static class TenantPiiSql
{
    /// <summary>Columns of ordinary tables in every tenant schema (<c>tenant_*</c>, including the shared one).</summary>
    public const string TenantColumns = """
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname LIKE 'tenant\_%' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY n.nspname, c.relname, a.attnum
        """;

    /// <summary>The type of one column ($1 schema, $2 table, $3 column); no row when the table or column is absent.</summary>
    public const string ColumnType = """
        SELECT format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        """;

    /// <summary>Where each tier remembers the anonymisations it committed, in the same transaction: a resumed step finds its own.</summary>
    public const string CreateJournal = """
        CREATE SCHEMA IF NOT EXISTS controlplane;
        CREATE TABLE IF NOT EXISTS controlplane.tenant_anonymisations (
            operation text PRIMARY KEY,
            tenant text NOT NULL,
            report jsonb NOT NULL,
            committed_at timestamptz NOT NULL DEFAULT now())
        """;

    public const string JournalRead = "SELECT report::text FROM controlplane.tenant_anonymisations WHERE operation = $1";
    public const string JournalWrite = "INSERT INTO controlplane.tenant_anonymisations (operation, tenant, report) VALUES ($1, $2, $3::jsonb)";

    // $1 schema, $2 table, $3 column; shared tables add $4 the tenant. Empty strings carry nothing personal and stay.
    public const string Originals = "SELECT format('SELECT DISTINCT %I::text FROM %I.%I WHERE %I IS NOT NULL AND %I::text <> ''''', $3::text, $1::text, $2::text, $3::text, $3::text)";
    public const string SharedOriginals =
        "SELECT format('SELECT DISTINCT %I::text FROM %I.%I WHERE tenant_id = %L AND %I IS NOT NULL AND %I::text <> ''''', $3::text, $1::text, $2::text, $4::text, $3::text, $3::text)";
    public const string CountRows = "SELECT format('SELECT count(*) FROM %I.%I', $1::text, $2::text)";
    public const string SharedCountRows = "SELECT format('SELECT count(*) FROM %I.%I WHERE tenant_id = %L', $1::text, $2::text, $3::text)";

    /// <summary>The map of one column's originals to pseudonyms, filled by binary COPY; dropped at commit.</summary>
    public const string CreateMap = "CREATE TEMP TABLE IF NOT EXISTS controlplane_pii_map (original text PRIMARY KEY, pseudonym text NOT NULL) ON COMMIT DROP";
    public const string ClearMap = "TRUNCATE controlplane_pii_map";
    public const string CopyMap = "COPY controlplane_pii_map (original, pseudonym) FROM STDIN (FORMAT BINARY)";

    /// <summary>Every original replaced in this transaction, by kind: what the verification looks for afterwards.</summary>
    public const string CreateOriginals = "CREATE TEMP TABLE IF NOT EXISTS controlplane_pii_originals (kind text NOT NULL, original text NOT NULL) ON COMMIT DROP";
    public const string KeepOriginals = "INSERT INTO controlplane_pii_originals SELECT $1, original FROM controlplane_pii_map";

    // $1 schema, $2 table, $3 column, $4 the column's format_type; shared tables add $5 the tenant.
    public const string Update =
        "SELECT format('UPDATE %I.%I t SET %I = m.pseudonym::%s FROM controlplane_pii_map m WHERE t.%I::text = m.original', $1::text, $2::text, $3::text, $4::text, $3::text)";
    public const string SharedUpdate =
        "SELECT format('UPDATE %I.%I t SET %I = m.pseudonym::%s FROM controlplane_pii_map m WHERE t.tenant_id = %L AND t.%I::text = m.original', $1::text, $2::text, $3::text, $4::text, $5::text, $3::text)";

    // The verification: rows of the tenant whose column still holds any original of its kind replaced on this tier.
    // $1 schema, $2 table, $3 column, $4 kind; shared tables add $5 the tenant.
    public const string Remaining =
        "SELECT format('SELECT count(*) FROM %I.%I t WHERE t.%I::text IN (SELECT original FROM controlplane_pii_originals WHERE kind = %L)', $1::text, $2::text, $3::text, $4::text)";
    public const string SharedRemaining =
        "SELECT format('SELECT count(*) FROM %I.%I t WHERE t.tenant_id = %L AND t.%I::text IN (SELECT original FROM controlplane_pii_originals WHERE kind = %L)', $1::text, $2::text, $5::text, $3::text, $4::text)";
}
