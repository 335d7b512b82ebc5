-- One class of the catalog: what it means and how to fix it.
SELECT id AS class, family, owner, title, meaning, fix_line, fix
FROM {db}.classes FINAL
WHERE id = {class}
