//! Document numbers: per type and year, without gaps, across nodes. A number is taken inside
//! the transaction that creates the document, by one conditional row update, so a document that
//! is not created leaves no hole, and two nodes never take the same number.

/// Takes the next number of `doc_type` in `year`, in the caller's transaction.
pub async fn take(conn: &mut sqlx::AnyConnection, doc_type: &str, year: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO doc_numbers (doc_type, year, last) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
        .bind(doc_type)
        .bind(year)
        .execute(&mut *conn)
        .await?;
    let (n,): (i64,) =
        sqlx::query_as("UPDATE doc_numbers SET last = last + 1 WHERE doc_type = $1 AND year = $2 RETURNING last")
            .bind(doc_type)
            .bind(year)
            .fetch_one(&mut *conn)
            .await?;
    Ok(n)
}

/// The number as printed: `PREFIX-YEAR-00042`.
pub fn format(prefix: &str, year: i64, n: i64) -> String {
    format!("{prefix}-{year}-{n:05}")
}
