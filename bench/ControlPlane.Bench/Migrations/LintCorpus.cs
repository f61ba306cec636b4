using System.Text;

namespace ControlPlane.Bench.Migrations;

/// <summary>
/// A synthetic migration set shaped like a real schema history: tables created, columns and indexes added,
/// constraints, data fixes, trigger functions with dollar-quoted bodies, views, comments. Deterministic (seeded), so
/// two runs lint the same text, and written to a directory so an external linter can read the same files.
/// </summary>
public static class LintCorpus
{
    public static (int Statements, string Directory) Write(string directory, int files, int statementsPerFile)
    {
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.EnumerateFiles(directory, "*.sql"))
        {
            File.Delete(stale);
        }
        var random = new Random(11);
        var total = 0;
        for (var file = 1; file <= files; file++)
        {
            var sql = new StringBuilder();
            sql.AppendLine($"-- migration {file}: generated for the lint benchmark");
            for (var n = 0; n < statementsPerFile; n++)
            {
                sql.AppendLine(Statement(random, file, n));
                total++;
            }
            File.WriteAllText(Path.Combine(directory, $"V{file}__bench_{file}.sql"), sql.ToString());
        }
        return (total, directory);
    }

    private static string Statement(Random random, int file, int n)
    {
        var t = $"t{file}_{n / 10}";
        var c = $"c{n}";
        return random.Next(10) switch
        {
            0 => $"CREATE TABLE {t}_{n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id bigint, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());",
            1 => $"ALTER TABLE {t} ADD COLUMN {c} text;",
            2 => $"CREATE INDEX {t}_{c}_idx ON {t} ({c});",
            3 => $"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_fk FOREIGN KEY (parent_id) REFERENCES {t} (id) NOT VALID;",
            4 => $"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;",
            5 => $"UPDATE {t} SET {c} = 'x' WHERE id BETWEEN {n * 1000} AND {n * 1000 + 999} AND {c} IS NULL;",
            6 => $"CREATE FUNCTION {t}_{c}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  -- DROP TABLE {t}; is text here, not a statement\n  NEW.updated_at := now();\n  RETURN NEW;\nEND\n$$;",
            7 => $"CREATE VIEW {t}_{c}_recent AS SELECT id, name FROM {t} WHERE created_at > now() - interval '1 day';",
            8 => $"/* backfill note */ ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_check CHECK ({c} <> '') NOT VALID;",
            _ => $"COMMENT ON TABLE {t} IS 'owned by team {n % 7}; see runbook ''{t}''';",
        };
    }
}
