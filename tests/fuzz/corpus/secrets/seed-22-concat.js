// Split credentials (planted test values, never valid).
const stripeKey = "sk_live_" +
  "goEmvnEN5N1a" +
  "E6PwZPf1Qh6y";
const slackToken = ["xoxb", "852808414852", "5388853933633", "HFwUbbYrEqmSM9wCZ7Uw9xfo"].join("-");
const embedded = '{"db": {"password": "Wm3!zQ8vKp2x"}}';
const label = "user" + "name";
