using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace ControlPlane.Migrations.Parsing;

/// <summary>
/// PostgreSQL's own grammar (15), from .NET: parses a script into statements carrying the server's parse tree as
/// protobuf-JSON, plus the scanner's comments (where directives and suppressions live). Thread-safe: a parse rents a
/// <see cref="PgParserInstance"/> from a small pool, because one instance's linear memory serves one parse at a time.
/// </summary>
public sealed class SqlParser
{
    private readonly Lazy<PgParserModule> module;
    private readonly ConcurrentBag<PgParserInstance> idle = [];
    private readonly int maxIdle;

    private SqlParser(Lazy<PgParserModule> module, int maxIdle)
    {
        this.module = module;
        this.maxIdle = maxIdle;
    }

    /// <summary>The process-wide parser over the .wasm the build placed beside this assembly.</summary>
    public static SqlParser Shared { get; } = new(PgParserModule.SharedLazy(), Math.Max(2, Environment.ProcessorCount));

    /// <summary>Parses <paramref name="sql"/>; throws <see cref="SqlSyntaxException"/> when PostgreSQL would.</summary>
    public ParsedScript Parse(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var utf8 = Encoding.UTF8.GetBytes(sql);
        var map = new SourceMap(utf8);
        var instance = Rent();
        RawParse raw;
        (IReadOnlyList<SqlToken>? Tokens, SqlError? Error) scan;
        try
        {
            raw = instance.Parse(utf8);
            scan = raw.Error is null ? instance.Scan(utf8) : (null, null);
        }
        catch
        {
            // A trap other than a longjmp leaves the instance's memory in an unknown state: never reuse it.
            instance.Dispose();
            throw;
        }
        Return(instance);
        var error = raw.Error ?? scan.Error;
        if (error is not null)
        {
            var at = map.PositionOf(error.ByteOffset);
            throw new SqlSyntaxException(error.Message, at);
        }
        var tokens = scan.Tokens!;
        var comments = tokens
            .Where(t => t.Kind is "SQL_COMMENT" or "C_COMMENT")
            .Select(t => new SqlComment(t.Start, map.Text(t.Start, t.End - t.Start), map.PositionOf(t.Start)))
            .ToArray();
        return new ParsedScript(sql, Statements(raw.TreeJson!, tokens, map), comments, map);
    }

    private static List<ParsedStatement> Statements(byte[] treeJson, IReadOnlyList<SqlToken> tokens, SourceMap map)
    {
        var tree = JsonSerializer.Deserialize<JsonElement>(treeJson);
        var statements = new List<ParsedStatement>();
        if (!tree.TryGetProperty("stmts", out var stmts))
        {
            return statements;
        }
        var token = 0;
        foreach (var raw in stmts.EnumerateArray())
        {
            // Protobuf-JSON omits zeros: a missing location is the start, a missing length runs to the end.
            var location = raw.TryGetProperty("stmt_location", out var l) ? l.GetInt32() : 0;
            var length = raw.TryGetProperty("stmt_len", out var n) ? n.GetInt32() : map.ByteLength - location;
            // stmt_location points just past the previous ';', comments and blanks included: the statement itself
            // starts at the first real token from there.
            while (token < tokens.Count && (tokens[token].Start < location || tokens[token].Kind is "SQL_COMMENT" or "C_COMMENT"))
            {
                token++;
            }
            var start = token < tokens.Count ? Math.Min(tokens[token].Start, location + length) : location;
            var node = raw.GetProperty("stmt");
            var kind = node.EnumerateObject().First().Name;
            statements.Add(new ParsedStatement(
                statements.Count, kind, node.GetProperty(kind), start, location + length - start,
                map.PositionOf(start), map.Text(start, location + length - start)));
        }
        return statements;
    }

    private PgParserInstance Rent() => idle.TryTake(out var instance) ? instance : new PgParserInstance(module.Value);

    private void Return(PgParserInstance instance)
    {
        if (idle.Count < maxIdle)
        {
            idle.Add(instance);
        }
        else
        {
            instance.Dispose();
        }
    }
}

/// <summary>PostgreSQL rejected the SQL: its message and where.</summary>
public sealed class SqlSyntaxException(string message, SourcePosition position)
    : Exception($"{message} at line {position.Line}, column {position.Column}")
{
    public string ParserMessage { get; } = message;

    public SourcePosition Position { get; } = position;
}
