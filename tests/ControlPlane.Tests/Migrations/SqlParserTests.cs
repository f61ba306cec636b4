using ControlPlane.Migrations.Parsing;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>PostgreSQL's own grammar, hosted from .NET: statements, positions, comments and errors.</summary>
public sealed class SqlParserTests
{
    [Fact]
    public void Parse_returns_each_statement_with_its_node_kind_and_position()
    {
        var script = SqlParser.Shared.Parse("SET lock_timeout = '2s';\n-- a comment\nCREATE INDEX CONCURRENTLY i ON orders (a);\n  DROP TABLE t;");

        Assert.Equal(["VariableSetStmt", "IndexStmt", "DropStmt"], script.Statements.Select(s => s.Kind));
        Assert.Equal(new SourcePosition(3, 1), script.Statements[1].Position);
        Assert.Equal(new SourcePosition(4, 3), script.Statements[2].Position);
        Assert.Equal("CREATE INDEX CONCURRENTLY i ON orders (a)", script.Statements[1].Text);
        Assert.True(script.Statements[1].Node.Bool("concurrent"));
        Assert.Equal("orders", script.Statements[1].Node.Field("relation").Table().Name);
    }

    [Fact]
    public void A_dollar_quoted_body_stays_a_string_and_is_no_statement()
    {
        var script = SqlParser.Shared.Parse("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $body$ DROP TABLE orders; $body$;");

        Assert.Equal("CreateFunctionStmt", Assert.Single(script.Statements).Kind);
    }

    [Fact]
    public void Comments_come_from_the_scanner_never_from_a_string()
    {
        var script = SqlParser.Shared.Parse("SELECT '-- not a comment'; /* block /* nested */ still */ SELECT 1; -- line");

        Assert.Equal(["/* block /* nested */ still */", "-- line"], script.Comments.Select(c => c.Text));
        Assert.Equal(2, script.Statements.Count);
    }

    [Fact]
    public void A_syntax_error_names_the_parser_message_line_and_column()
    {
        var error = Assert.Throws<SqlSyntaxException>(() => SqlParser.Shared.Parse("SELECT 1;\nALTER TABLE t ADD COLUMN;"));

        Assert.Contains("syntax error", error.ParserMessage, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition(2, 25), error.Position);
    }

    [Fact]
    public void The_parser_recovers_after_an_error_and_parses_the_next_script()
    {
        Assert.Throws<SqlSyntaxException>(() => SqlParser.Shared.Parse("CREATE TABLE ("));

        Assert.Single(SqlParser.Shared.Parse("SELECT 1").Statements);
    }

    [Fact]
    public void Positions_count_characters_not_utf8_bytes()
    {
        var script = SqlParser.Shared.Parse("SELECT 'żółw'; SELECT 2;");

        Assert.Equal(new SourcePosition(1, 16), script.Statements[1].Position);
    }

    [Fact]
    public void Parallel_parses_on_the_shared_parser_agree_with_a_serial_one()
    {
        var scripts = Enumerable.Range(0, 64).Select(i => $"ALTER TABLE t{i} ADD COLUMN c{i} int; CREATE INDEX i{i} ON t{i} (c{i});").ToArray();
        var serial = scripts.Select(s => SqlParser.Shared.Parse(s).Statements.Select(st => st.Node.GetRawText()).ToArray()).ToArray();

        var parallel = new string[scripts.Length][];
        Parallel.For(0, scripts.Length, i => parallel[i] = SqlParser.Shared.Parse(scripts[i]).Statements.Select(st => st.Node.GetRawText()).ToArray());

        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void An_empty_script_has_no_statements()
    {
        Assert.Empty(SqlParser.Shared.Parse("  -- only a comment\n").Statements);
    }
}
