// Planted test credentials, never valid.
public class App {
    private static final String DB_PASSWORD = "Pa55word-Orders9";
    private static final String JDBC = "jdbc:mysql://db:3306/shop?user=shop&password=Hx8vR2qLm5";
    private String passwordField = "password";

    String conn() {
        return "Server=sql.internal;Database=shop;User Id=shop;Password=Zq9!vT3pLx8m;";
    }
}
