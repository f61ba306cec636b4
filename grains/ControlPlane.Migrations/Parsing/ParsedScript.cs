using System.Text.Json;

namespace ControlPlane.Migrations.Parsing;

/// <summary>A parsed SQL script: its statements in order and its comments (the scanner's, never a string's).</summary>
public sealed record ParsedScript(
    string Sql, IReadOnlyList<ParsedStatement> Statements, IReadOnlyList<SqlComment> Comments, SourceMap Map);

/// <summary>
/// One top-level statement. <see cref="Kind"/> is the parse node's name (IndexStmt, AlterTableStmt, …) and
/// <see cref="Node"/> its body in libpg_query's protobuf-JSON (field names as in PostgreSQL's parsenodes.h).
/// </summary>
public sealed record ParsedStatement(
    int Index, string Kind, JsonElement Node, int ByteStart, int ByteLength, SourcePosition Position, string Text);

/// <summary>A comment as the scanner saw it (a <c>--</c> line or a <c>/* */</c> block).</summary>
public sealed record SqlComment(int ByteStart, string Text, SourcePosition Position);

/// <summary>A 1-based line and column (in characters) in a source file.</summary>
public sealed record SourcePosition(int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}
